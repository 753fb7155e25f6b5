/*
 * node-red-contrib-leapcraft: editor helpers shared by every Leapcraft node's edit dialog.
 *
 * Node-RED serves this file at resources/node-red-contrib-leapcraft/leapcraft-editor.js; each
 * node's .html loads it with a relative <script src> before its own script, so it may run
 * several times: the first run defines window.LeapcraftEditor, later runs keep it. (Node-RED 4
 * loads those files in parallel: when this one runs before the rules, see the first lines.)
 *
 * Plain ES5, no build step of its own. The runtime's rules (limits, patterns, defaults,
 * ranges) come from window.LeapcraftRules, which resources/leapcraft-rules.js defines: the
 * build generates it from lib/editor-rules.ts, and every .html loads it just before this
 * file. The validators give the runtime's answers (lib/api/validation.ts is the reference;
 * test/nodes/editor-resources.test.ts compares them on a table of inputs).
 */
window.LeapcraftEditor = window.LeapcraftEditor || (function (build) {
    "use strict";

    // Node-RED 4 inserts a module's relative <script src> files as separate script elements,
    // which the browser loads in parallel and runs in whatever order they arrive: this file may
    // run while leapcraft-rules.js is still on its way. Node-RED runs the nodes' own scripts
    // only once every file has loaded, so then LeapcraftEditor is made on first use (a getter
    // until the rules are there). Without a rules script at all, build() says what is missing.
    function rulesOnTheirWay() {
        if (typeof document === "undefined" || typeof document.getElementsByTagName !== "function") {
            return false;
        }
        var scripts = document.getElementsByTagName("script");
        for (var i = 0; i < scripts.length; i++) {
            if (/\/leapcraft-rules\.js(\?|#|$)/.test(String(scripts[i].src || ""))) {
                return true;
            }
        }
        return false;
    }
    if (window.LeapcraftRules || !rulesOnTheirWay() || typeof Object.defineProperty !== "function") {
        return build();
    }
    function settle(value) {
        Object.defineProperty(window, "LeapcraftEditor", { value: value, writable: true, configurable: true, enumerable: true });
    }
    Object.defineProperty(window, "LeapcraftEditor", {
        configurable: true,
        enumerable: true,
        get: function () {
            if (!window.LeapcraftRules) {
                return undefined;
            }
            var editor = build();
            settle(editor);
            return editor;
        },
        set: function (value) {
            if (value !== undefined) {
                settle(value);
            }
        }
    });
    return undefined;
})(function () {
    "use strict";

    var MODULE = "node-red-contrib-leapcraft";
    /** Texts shared by every node live in the config node's catalog under `common`. */
    var COMMON_NAMESPACE = MODULE + "/leapcraft-config";
    /** What the editor shows in a password field that holds a stored credential. */
    var CREDENTIAL_PLACEHOLDER = "__PWRD__";

    // ---- the runtime's rules (generated from lib/editor-rules.ts) ----------------------------

    var RULES = window.LeapcraftRules;
    if (!RULES) {
        throw new Error(MODULE + ": resources/leapcraft-rules.js must be loaded before leapcraft-editor.js (npm run build writes it)");
    }

    /** A pattern of the rules ({ source, flags }) as a RegExp. */
    function pattern(rule) {
        return new RegExp(rule.source, rule.flags);
    }

    var MAX_ID_LENGTH = RULES.ids.maxLength;
    var MAX_INTERVAL_S = RULES.interval.max;
    var CONTROL_CHARS = pattern(RULES.ids.controlChars);
    var INTEGER = pattern(RULES.integer);
    var ISO_DATE_TIME = pattern(RULES.dateTime.iso);
    var RELATIVE_TIME = pattern(RULES.dateTime.relative);
    var UNIT_MS = RULES.dateTime.unitMs;
    var MAX_TIME = RULES.dateTime.maxMs;
    var LOOPBACK_HOST = pattern(RULES.baseUrl.loopbackHost);

    /** A form value as text: undefined and null are empty. */
    function text(v) {
        return String(v === undefined || v === null ? "" : v);
    }

    /** One id (physical id, gateway id) as requireId takes it: trimmed, 1..MAX_ID_LENGTH printable characters, not . or .. */
    function isId(v) {
        var id = text(v).trim();
        return id !== "" && id.length <= MAX_ID_LENGTH && !CONTROL_CHARS.test(id) && id !== "." && id !== "..";
    }

    /** An optional id setting: empty means "not set" (optionalId). */
    function isOptionalId(v) {
        return text(v).trim() === "" || isId(v);
    }

    /** A comma-separated id list: trimmed, empty entries dropped (nodes/common/ids.ts parseIdList). */
    function splitIds(v) {
        return text(v).split(",")
            .map(function (s) { return s.trim(); })
            .filter(function (s) { return s !== ""; });
    }

    /** The first entry of an id list that is not a usable id, or null when all are. */
    function firstInvalidId(v) {
        var ids = splitIds(v);
        for (var i = 0; i < ids.length; i++) {
            if (!isId(ids[i])) {
                return ids[i];
            }
        }
        return null;
    }

    /** An integer as toInteger reads a form value ("42", " -1 "), or NaN. */
    function toInteger(v) {
        var s = text(v);
        if (!INTEGER.test(s)) {
            return NaN;
        }
        var n = Number(s);
        return Number.isSafeInteger(n) ? n : NaN;
    }

    /** integerInRange: an integer from min to max. */
    function isIntegerInRange(v, min, max) {
        var n = toInteger(v);
        return !isNaN(n) && n >= min && n <= max;
    }

    /** A poll interval in whole seconds: 0 (only on input) up to MAX_INTERVAL_S (a week). */
    function isInterval(v) {
        return isIntegerInRange(v, 0, MAX_INTERVAL_S);
    }

    /** limitOrAll: a positive integer, or -1 for everything. */
    function isLimit(v) {
        var n = toInteger(v);
        return !isNaN(n) && (n === -1 || n >= 1);
    }

    /** `now` less `count` calendar months, the day clamped to the target month's last (31 March - 1M = 28/29 February). */
    function monthsBefore(now, count) {
        var d = new Date(now);
        var target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - count, 1,
            d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
        var lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
        target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
        return target.getTime();
    }

    /**
     * Epoch ms of a date-time as parseDateTime reads it, or NaN: ISO 8601 with or without a
     * zone (zone-less is UTC), `now`, or relative to `now` (-15m, -24h, -7d, -2w, -3M as the
     * rules' pattern allows; M: whole calendar months); calendar values are checked and the
     * result must lie in 1970..9999.
     */
    function parseDateTime(value, now) {
        var s = text(value).trim();
        if (now === undefined) {
            now = Date.now();
        }
        if (/^now$/i.test(s)) {
            return now;
        }
        var epoch;
        var rel = RELATIVE_TIME.exec(s);
        if (rel) {
            var amount = Number(rel[1]);
            if (rel[2] === "M") {
                if (Math.floor(amount) !== amount) {
                    return NaN;
                }
                epoch = monthsBefore(now, amount);
            } else {
                epoch = now - amount * UNIT_MS[rel[2]];
            }
        } else {
            var m = ISO_DATE_TIME.exec(s);
            if (!m) {
                return NaN;
            }
            var year = Number(m[1]), month = Number(m[2]), day = Number(m[3]);
            var hour = Number(m[4] || "0"), minute = Number(m[5] || "0"), second = Number(m[6] || "0");
            var probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
            if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 ||
                probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
                return NaN;
            }
            epoch = probe.getTime() + Math.floor(Number("0." + (m[7] || "0")) * 1000);
            var zone = m[8];
            if (zone && zone.toUpperCase() !== "Z") {
                var sign = zone[0] === "-" ? -1 : 1;
                var digits = zone.slice(1).replace(":", "");
                var offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
                if (offsetMin > 18 * 60) {
                    return NaN;
                }
                epoch -= sign * offsetMin * 60e3;
            }
        }
        if (isNaN(epoch) || epoch < 0 || epoch > MAX_TIME) {
            return NaN;
        }
        return epoch;
    }

    function isDateTime(value, now) {
        return !isNaN(parseDateTime(value, now));
    }

    function isLoopbackHost(hostname) {
        return LOOPBACK_HOST.test(hostname);
    }

    function parseUrl(value) {
        try {
            return new URL(text(value).trim());
        } catch (err) {
            return null;
        }
    }

    /**
     * The account's base URL (validateBaseUrl): true, or why not, as the key of the config
     * node's `validation` texts: "baseUrl" (not an http(s) URL), "insecureBaseUrl" (plain http
     * to a host that is not loopback), "baseUrlParts" (user name, password, query or fragment).
     */
    function checkBaseUrl(value) {
        var url = parseUrl(value);
        if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
            return "baseUrl";
        }
        if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
            return "insecureBaseUrl";
        }
        if (url.username || url.password || url.search || url.hash) {
            return "baseUrlParts";
        }
        return true;
    }

    /**
     * The name of the environment variable a setting refers to as a whole (`${NAME}`, which
     * Node-RED replaces when the flow starts), or null. The editor cannot resolve it: look-ups
     * then leave the value to the deployed account.
     */
    function envReference(value) {
        var m = /^\$\{(\S+)\}$/.exec(text(value).trim());
        return m ? m[1] : null;
    }

    // ---- texts -------------------------------------------------------------------------------

    function editorRED() {
        return typeof RED !== "undefined" ? RED : window.RED;
    }

    /** The i18n function of one node type's catalog, whatever `this` a validator is called with. */
    function i18n(type) {
        return function (key, params) {
            var R = editorRED();
            var def = R && R.nodes && typeof R.nodes.getType === "function" ? R.nodes.getType(type) : null;
            return (def && typeof def._ === "function") ? def._(key, params) : key;
        };
    }

    /** A text of the shared `common` section (config node's catalog), e.g. common("editor.picker.refresh"). */
    function common(key, params) {
        var R = editorRED();
        var full = COMMON_NAMESPACE + ":common." + key;
        if (!R || typeof R._ !== "function") {
            return "common." + key;
        }
        var result = R._(full, params);
        return result === full ? "common." + key : result;
    }

    // ---- node definitions --------------------------------------------------------------------

    /**
     * The class of the wrapper round every Leapcraft dialog's rows: a label column wide enough
     * for each label in English and German on one line (Node-RED's own is 100px), as core nodes
     * widen theirs. The style is added to the page once.
     */
    var FORM_CLASS = "leapcraft-form";
    var FORM_STYLE = "." + FORM_CLASS + " .form-row > label:first-child { width: 125px; }";

    function addFormStyle() {
        if (typeof document === "undefined" || !document.head || document.getElementById("leapcraft-editor-style")) {
            return;
        }
        var style = document.createElement("style");
        style.id = "leapcraft-editor-style";
        style.appendChild(document.createTextNode(FORM_STYLE));
        document.head.appendChild(style);
    }
    addFormStyle();

    /**
     * A node without an account gets the account when exactly one can be chosen in the dialog's
     * select (every Leapcraft example and the demo bring one): selected, saved with Done, as if
     * picked by hand. Returns true when it chose one.
     */
    function preselectAccount(node, selector) {
        if (typeof $ !== "function" || (node && node.account)) {
            return false;
        }
        var select = $(selector || "#node-input-account");
        if (!select.is("select")) {
            return false;
        }
        var value = select.val();
        if (value && value !== "_ADD_") {
            return false;
        }
        var choices = select.find("option").filter(function () {
            var v = String(this.value || "");
            return v !== "" && v !== "_ADD_" && v.indexOf("${") !== 0;
        });
        if (choices.length !== 1) {
            return false;
        }
        select.val(choices.first().val());
        return true;
    }

    /**
     * What every Leapcraft flow node's definition shares, as values for its
     * RED.nodes.registerType(type, {...}) call: the common defaults (name; account, a
     * leapcraft-config), the palette label, the label (the name, else the node's own, else
     * the palette label), its style, and the input and output labels from the node type's
     * catalog (<type>.paletteLabel, .inputLabel, .outputLabel).
     *
     * The call itself stays a literal in each .html with category, color, icon, inputs and
     * outputs written out, and every property named (no spread): the Flow Library reads the
     * definition from the .html without running it, and its parser stops at a spread.
     *
     * oneditprepare is what every dialog does first: each node's own oneditprepare calls it
     * (base.oneditprepare.call(this)) before anything else. It selects the account of a new
     * node when there is exactly one (preselectAccount). Where the account is optional, "none"
     * is a choice of its own: only a node not deployed yet (changed) gets one, so a deployed
     * node saved without an account keeps none.
     *
     * options: label (function, `this` the node: its own label, or "" for the palette label);
     * accountRequired (default true).
     */
    function flowNode(type, options) {
        options = options || {};
        function key(name) {
            return type + "." + name;
        }
        return {
            defaults: {
                name: { value: "" },
                account: { value: "", type: "leapcraft-config", required: options.accountRequired !== false }
            },
            paletteLabel: function () {
                return this._(key("paletteLabel"));
            },
            label: function () {
                return this.name || (options.label && options.label.call(this)) || this._(key("paletteLabel"));
            },
            labelStyle: function () {
                return this.name ? "node_label_italic" : "";
            },
            inputLabels: function () {
                return this._(key("inputLabel"));
            },
            outputLabels: function () {
                return this._(key("outputLabel"));
            },
            oneditprepare: function () {
                if (options.accountRequired !== false || this.changed) {
                    preselectAccount(this);
                }
            }
        };
    }

    // ---- context stores ----------------------------------------------------------------------

    /**
     * The context stores configured in settings.js (contextStorage), as the editor knows them:
     * { stores, defaultStore }, the default store first and the others by name; null when the
     * editor does not know them (no contextStorage: the memory store only).
     */
    function contextStores() {
        var R = editorRED();
        var ctx = R && R.settings && R.settings.context;
        if (!ctx || !Array.isArray(ctx.stores) || ctx.stores.length === 0) {
            return null;
        }
        var def = ctx["default"];
        var stores = ctx.stores.slice().sort(function (a, b) {
            if (a === def) { return -1; }
            if (b === def) { return 1; }
            return String(a).localeCompare(String(b));
        });
        return { stores: stores, defaultStore: def };
    }

    /**
     * A node's context store field: a select of the configured stores when the editor knows
     * them, the default store first and every other store once (the default store is not listed a
     * second time under its own name); the text input stays the saved field (hidden), so an
     * unknown or typed name is never lost. `label(key, params)` gives the node's texts for
     * "defaultStore" (a default store with a name of its own) and "unknownStore". Returns false
     * (the input stays) when the editor does not know the stores.
     */
    function storePicker(inputSelector, selectSelector, label) {
        var known = contextStores();
        if (!known || typeof $ !== "function") {
            return false;
        }
        var input = $(inputSelector);
        var select = $(selectSelector);
        var saved = text(input.val());
        var named = known.defaultStore && known.defaultStore !== "default";
        $("<option>").val("").text(named ? label("defaultStore", { store: known.defaultStore }) : common("editor.store.default")).appendTo(select);
        known.stores.forEach(function (store) {
            if (store !== known.defaultStore) {
                $("<option>").val(store).text(store).appendTo(select);
            }
        });
        if (saved !== "" && select.find("option").filter(function () { return this.value === saved; }).length === 0) {
            $("<option>").val(saved).text(known.stores.indexOf(saved) === -1 ? label("unknownStore", { store: saved }) : saved).appendTo(select);
        }
        select.val(saved);
        select.on("change", function () {
            input.val(select.val()).trigger("change");
        });
        input.hide();
        select.show();
        return true;
    }

    // ---- admin look-ups ----------------------------------------------------------------------

    /**
     * POSTs JSON to one of the package's admin routes (a relative URL, so httpAdminRoot keeps
     * working) and calls done(error, data). error: {status, code, reason, message}.
     * options: timeout (ms, default 30000; the API check takes longer).
     */
    function lookup(path, body, done, options) {
        $.ajax({
            url: path,
            type: "POST",
            contentType: "application/json",
            data: JSON.stringify(body || {}),
            dataType: "json",
            timeout: (options && options.timeout) || 30000
        }).done(function (data) {
            done(null, data || {});
        }).fail(function (xhr, status) {
            var data = xhr && xhr.responseJSON;
            done({
                status: xhr ? xhr.status : 0,
                code: data && data.code,
                reason: data && data.reason,
                message: (data && data.message) || status || ""
            });
        });
    }

    /** Why the runtime could not run a look-up (its `reason`): each has a text under common.editor.reason. */
    var REASONS = ["noKey", "envKey", "storedKeyElsewhere"];

    /** What to show for a failed look-up, in the editor's language. */
    function errorText(err) {
        if (!err) {
            return "";
        }
        if (err.reason && REASONS.indexOf(err.reason) !== -1) {
            return common("editor.reason." + err.reason);
        }
        if (err.code) {
            var title = common("error." + err.code);
            if (title === "common.error." + err.code) {
                title = common("error.unknown");
            }
            return err.message ? title + ": " + err.message : title;
        }
        if (err.status === 401 || err.status === 403) {
            return common("editor.notPermitted");
        }
        if (!err.status) {
            return common("editor.unreachable");
        }
        return common("editor.failed", { status: err.status });
    }

    /** The POST body that names an account (a leapcraft-config node) for a look-up. */
    function accountRequest(accountId) {
        var body = { id: accountId };
        var R = editorRED();
        var config = R && R.nodes && typeof R.nodes.node === "function" ? R.nodes.node(accountId) : null;
        if (config) {
            // A ${NAME} base URL only the deployed account resolves: the runtime then uses its own.
            if (config.baseUrl && !envReference(config.baseUrl)) {
                body.baseUrl = config.baseUrl;
            }
            // A key typed into the account dialog and not deployed yet is still in the editor;
            // otherwise (or for a ${NAME} key) the placeholder asks the runtime for the deployed
            // account's stored key.
            var key = config.credentials && config.credentials.apiKey;
            body.apiKey = key && key !== CREDENTIAL_PLACEHOLDER && !envReference(key) ? key : CREDENTIAL_PLACEHOLDER;
        }
        return body;
    }

    /**
     * What each picker lists: the admin route, the answer's field, the item's id, its text in
     * the menu and under the field, what a search looks at, and its texts (common.editor.picker.*,
     * each a literal call so the i18n test finds it).
     */
    var SOURCES = {
        devices: {
            path: "leapcraft/devices",
            field: "devices",
            id: "physical_id",
            label: function (d) { return deviceLabel(d); },
            name: function (d) { return d.name ? (d.type ? d.name + " \u00b7 " + d.type : d.name) : text(d.type); },
            haystack: function (d) { return [d.name, d.physical_id, d.type]; },
            texts: {
                refresh: function () { return common("editor.picker.refresh"); },
                noAccount: function () { return common("editor.picker.noAccount"); },
                empty: function () { return common("editor.picker.empty"); },
                unknown: function (id) { return common("editor.picker.unknown", { id: id }); }
            }
        },
        topologies: {
            path: "leapcraft/topologies",
            field: "topologies",
            id: "gateway_id",
            label: function (g) { return gatewayLabel(g); },
            name: function (g) { return gatewayName(g); },
            haystack: function (g) { return [g.name, g.gateway_id]; },
            texts: {
                refresh: function () { return common("editor.picker.refreshGateways"); },
                noAccount: function () { return common("editor.picker.noAccountGateways"); },
                empty: function () { return common("editor.picker.emptyGateways"); },
                unknown: function (id) { return common("editor.picker.unknownGateway", { id: id }); }
            }
        }
    };

    /** The lists per kind and account for this editor session: one request serves every keystroke. */
    var lists = {};
    var LIST_TTL_MS = 30000;

    function listKey(kind, body) {
        return [kind, body.id, body.baseUrl || "", body.apiKey || ""].join("\n");
    }

    /** The list of one kind ("devices", "topologies") of an account: done(error, list). */
    function loadList(kind, accountId, refresh, done) {
        var source = SOURCES[kind];
        var body = accountRequest(accountId);
        if (refresh) {
            body.refresh = true;
        }
        var key = listKey(kind, body);
        var entry = lists[key];
        if (entry && !refresh) {
            if (entry.pending) {
                entry.pending.push(done);
                return;
            }
            if (Date.now() - entry.at < LIST_TTL_MS) {
                done(null, entry.list);
                return;
            }
        }
        entry = lists[key] = { pending: [done] };
        lookup(source.path, body, function (err, data) {
            var waiting = entry.pending;
            entry.pending = null;
            if (err || !data || !Array.isArray(data[source.field])) {
                if (lists[key] === entry) {
                    delete lists[key];
                }
                err = err || { status: 200, message: "" };
            } else {
                entry.list = data[source.field];
                entry.at = Date.now();
            }
            waiting.forEach(function (cb) { cb(err || null, err ? null : entry.list); });
        });
    }

    function loadDevices(accountId, refresh, done) {
        loadList("devices", accountId, refresh, done);
    }

    function loadTopologies(accountId, refresh, done) {
        loadList("topologies", accountId, refresh, done);
    }

    /** "Conference Room B (D2:C1:AA:FF:3E:09) · airbird" */
    function deviceLabel(device) {
        var label = device.name ? device.name + " (" + device.physical_id + ")" : String(device.physical_id);
        return device.type ? label + " \u00b7 " + device.type : label;
    }

    /**
     * A gateway's name; one without a name is "Unnamed gateway eb7119" (the first six characters
     * of its id), as the dashboard example and the Home Assistant bridge name it.
     */
    function gatewayName(gateway) {
        return gateway.name ? String(gateway.name) : common("editor.picker.unnamedGateway", { id: String(gateway.gateway_id).slice(0, 6) });
    }

    /** "Gateway 1F (eb7119f94da3f7f644)"; "Unnamed gateway eb7119 (eb7119f94da3f7f644)". */
    function gatewayLabel(gateway) {
        return gatewayName(gateway) + " (" + gateway.gateway_id + ")";
    }

    /** Room between an element and the edges of the edit tray it is in (the window without one). */
    function roomAround(element) {
        var tray = element.closest(".red-ui-tray");
        var box = tray.length ? tray[0].getBoundingClientRect() : { left: 0, top: 0, right: window.innerWidth, bottom: window.innerHeight };
        var own = element[0].getBoundingClientRect();
        return { tray: tray, box: box, below: box.bottom - own.bottom, above: own.top - box.top };
    }

    /**
     * A picker on a text input, filled from an admin route of the selected account (devices or
     * gateways): the list opens when the field gets the focus and narrows as the user types, it
     * stays inside the edit dialog (as wide as the dialog allows, scrolling when long), a refresh
     * button beside the field reads the list again, the name of what the field holds shows
     * below it, and a hint row says why there is no list. Anything typed stays accepted.
     *
     * options: input (selector or jQuery), account (the account select; default
     * #node-input-account), multiple (true: a comma-separated list; a pick is appended).
     */
    function listPicker(kind, options) {
        var source = SOURCES[kind];
        var input = $(options.input);
        var account = $(options.account || "#node-input-account");
        var multiple = !!options.multiple;
        if (!input.length || typeof input.autocomplete !== "function") {
            return null;
        }
        var row = input.closest(".form-row");
        var refreshButton = $('<button type="button" class="red-ui-button leapcraft-picker-refresh" style="margin-left:4px;"><i class="fa fa-refresh"></i></button>')
            .attr("title", source.texts.refresh());
        input.css("width", "calc(70% - 40px)");
        input.after(refreshButton);
        // What the field holds, by name (e.g. "Kitchen · airbird"), under the field.
        var names = $('<div class="form-row leapcraft-picker-names" style="display:none; margin-top:-6px;"><label>&nbsp;</label><span class="leapcraft-picker-name"></span></div>');
        names.find("span").css({ color: "var(--red-ui-secondary-text-color, #777)", display: "inline-block", width: "70%", "vertical-align": "top" });
        names.insertAfter(row);
        var hint = $('<div class="form-row form-tips leapcraft-picker-hint" style="display:none; margin-top:-6px;"></div>');
        hint.insertAfter(names);
        var items = null;
        var generation = 0;
        /** The refresh button and the focus show the whole list, not only what matches the field. */
        var showAll = false;
        /** The focus that follows a pick (jQuery UI gives it back to the field) opens nothing. */
        var picking = false;

        function accountId() {
            var id = account.val();
            return id && id !== "_ADD_" ? String(id) : "";
        }

        function showHint(message, isError) {
            if (!message) {
                hint.hide().text("");
                return;
            }
            hint.text(message).css("color", isError ? "var(--red-ui-text-color-error, #d6615f)" : "").show();
        }

        function byId(id) {
            for (var i = 0; items && i < items.length; i++) {
                if (String(items[i][source.id]) === id) {
                    return items[i];
                }
            }
            return null;
        }

        /** The names of what the field holds, once the list is known; an id not in it is said so. */
        function showNames() {
            var ids = multiple ? splitIds(input.val()) : (text(input.val()).trim() === "" ? [] : [text(input.val()).trim()]);
            if (!items || ids.length === 0) {
                names.hide();
                return;
            }
            var parts = [];
            for (var i = 0; i < ids.length; i++) {
                var item = byId(ids[i]);
                var name = item ? source.name(item) : "";
                parts.push(item ? (name || ids[i]) : source.texts.unknown(ids[i]));
            }
            names.find("span").text(parts.join(", "));
            names.show();
        }

        function load(refresh, then, quiet) {
            var id = accountId();
            if (!id) {
                items = null;
                showNames();
                if (!quiet) {
                    showHint(source.texts.noAccount(), false);
                }
                if (then) { then(); }
                return;
            }
            var mine = ++generation;
            refreshButton.prop("disabled", true).find("i").addClass("fa-spin");
            loadList(kind, id, refresh, function (err, list) {
                if (mine !== generation) {
                    return; // the account changed meanwhile
                }
                refreshButton.prop("disabled", false).find("i").removeClass("fa-spin");
                if (err) {
                    items = null;
                    if (!quiet) {
                        showHint(errorText(err), !err.reason);
                    }
                } else {
                    items = list;
                    showHint(list.length === 0 ? source.texts.empty() : "", false);
                }
                showNames();
                if (then) { then(); }
            });
        }

        /** The part of the field a pick replaces: all of it, or the last comma entry. */
        function currentTerm() {
            var value = text(input.val());
            return multiple ? value.slice(value.lastIndexOf(",") + 1).trim() : value.trim();
        }

        function suggestions(term) {
            if (!items) {
                return [];
            }
            var needle = text(term).toLowerCase();
            var taken = multiple ? splitIds(input.val()) : [];
            var out = [];
            for (var i = 0; i < items.length && out.length < 200; i++) {
                var item = items[i];
                var id = String(item[source.id]);
                if (taken.indexOf(id) !== -1) {
                    continue;
                }
                var haystack = source.haystack(item).map(text).join("\n").toLowerCase();
                if (needle === "" || haystack.indexOf(needle) !== -1) {
                    out.push({ label: source.label(item), value: id });
                }
            }
            return out;
        }

        function insert(id) {
            if (!multiple) {
                input.val(id);
            } else {
                var value = text(input.val());
                var cut = value.lastIndexOf(",");
                var kept = splitIds(cut === -1 ? "" : value.slice(0, cut));
                kept.push(id);
                input.val(kept.join(", "));
            }
            input.trigger("change");
        }

        /** Opens the whole list (what is already picked left out), reading it first when needed. */
        function openAll() {
            showAll = true;
            input.autocomplete("search", "");
        }

        input.autocomplete({
            minLength: 0,
            delay: 150,
            // Inside the edit tray, so it scrolls and closes with it; positioned within it.
            appendTo: input.closest(".red-ui-tray").length ? input.closest(".red-ui-tray") : null,
            position: { my: "left top", at: "left bottom", collision: "flipfit", within: input.closest(".red-ui-tray").length ? input.closest(".red-ui-tray") : window },
            source: function (request, respond) {
                var term = currentTerm();
                // The whole list when asked for, or when the field holds exactly a listed id
                // (the user wants to change it), else what matches the field.
                if (showAll || (!multiple && byId(term))) {
                    term = "";
                }
                showAll = false;
                if (items) {
                    respond(suggestions(term));
                } else {
                    load(false, function () { respond(suggestions(term)); });
                }
            },
            focus: function () {
                return false; // keep what is typed while arrowing through the list
            },
            select: function (event, ui) {
                picking = true;
                insert(ui.item.value);
                showNames();
                setTimeout(function () { picking = false; }, 0);
                return false;
            },
            open: function () {
                input.autocomplete("widget").css("z-index", 2000);
            }
        });

        // The menu: at least as wide as the field and its button, at most as wide as the tray (it
        // is then moved left to fit: position collision "fit"); as high as the room below (or
        // above) the field, then scrolling.
        var instance = input.autocomplete("instance");
        instance._resizeMenu = function () {
            var menu = this.menu.element;
            var room = roomAround(input);
            var widest = Math.max(input.outerWidth() + refreshButton.outerWidth() + 4, 160);
            menu.css({ "max-width": Math.max(widest, room.box.right - room.box.left - 24) + "px", "min-width": widest + "px", width: "auto",
                "max-height": Math.max(120, Math.min(320, Math.max(room.below, room.above) - 12)) + "px",
                "overflow-y": "auto", "overflow-x": "hidden", "box-sizing": "border-box" });
            menu.find("li, .ui-menu-item-wrapper").css({ "white-space": "nowrap", overflow: "hidden", "text-overflow": "ellipsis" });
        };

        input.on("focus", function () {
            if (picking || input.prop("readonly")) {
                return;
            }
            if (multiple ? currentTerm() === "" : (currentTerm() === "" || !items || byId(currentTerm()))) {
                openAll();
            } else {
                input.autocomplete("search", currentTerm());
            }
        });
        input.on("change keyup", function () {
            showNames();
        });

        refreshButton.on("click", function (event) {
            event.preventDefault();
            load(true, function () {
                if (items && items.length) {
                    picking = true;
                    input.trigger("focus");
                    picking = false;
                    openAll();
                }
            });
        });

        account.on("change", function () {
            generation++;
            items = null;
            refreshButton.prop("disabled", false).find("i").removeClass("fa-spin");
            showHint("", false);
            showNames();
            if (text(input.val()).trim() !== "") {
                load(false, null, true);
            }
        });

        // A field that holds an id already: its name, quietly (no hint when the list cannot be had).
        if (text(input.val()).trim() !== "") {
            load(false, null, true);
        }

        return {
            refresh: function () { load(true); },
            destroy: function () {
                generation++;
                if (input.autocomplete("instance")) {
                    input.autocomplete("destroy");
                }
                refreshButton.remove();
                names.remove();
                hint.remove();
            }
        };
    }

    /** The device picker (devices, telemetry, alerts nodes): POST leapcraft/devices. */
    function devicePicker(options) {
        return listPicker("devices", options);
    }

    /** The gateway picker (topology node): POST leapcraft/topologies. */
    function gatewayPicker(options) {
        return listPicker("topologies", options);
    }

    return {
        MODULE: MODULE,
        CREDENTIAL_PLACEHOLDER: CREDENTIAL_PLACEHOLDER,
        rules: RULES,
        pattern: pattern,
        MAX_ID_LENGTH: MAX_ID_LENGTH,
        MAX_INTERVAL_S: MAX_INTERVAL_S,
        CONTROL_CHARS: CONTROL_CHARS,
        text: text,
        isId: isId,
        isOptionalId: isOptionalId,
        splitIds: splitIds,
        firstInvalidId: firstInvalidId,
        toInteger: toInteger,
        isIntegerInRange: isIntegerInRange,
        isInterval: isInterval,
        isLimit: isLimit,
        parseDateTime: parseDateTime,
        isDateTime: isDateTime,
        isLoopbackHost: isLoopbackHost,
        parseUrl: parseUrl,
        checkBaseUrl: checkBaseUrl,
        envReference: envReference,
        i18n: i18n,
        common: common,
        flowNode: flowNode,
        lookup: lookup,
        errorText: errorText,
        accountRequest: accountRequest,
        loadList: loadList,
        loadDevices: loadDevices,
        loadTopologies: loadTopologies,
        deviceLabel: deviceLabel,
        gatewayLabel: gatewayLabel,
        devicePicker: devicePicker,
        gatewayPicker: gatewayPicker,
        preselectAccount: preselectAccount,
        contextStores: contextStores,
        storePicker: storePicker,
        FORM_CLASS: FORM_CLASS
    };
});
