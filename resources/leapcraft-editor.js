/*
 * node-red-contrib-leapcraft: editor helpers shared by every Leapcraft node's edit dialog.
 *
 * Node-RED serves this file at resources/node-red-contrib-leapcraft/leapcraft-editor.js; each
 * node's .html loads it with a relative <script src> before its own script, so it may run
 * several times: the first run defines window.LeapcraftEditor, later runs keep it.
 *
 * Plain ES5, no build step of its own. The runtime's rules (limits, patterns, defaults,
 * ranges) come from window.LeapcraftRules, which resources/leapcraft-rules.js defines: the
 * build generates it from lib/editor-rules.ts, and every .html loads it just before this
 * file. The validators give the runtime's answers (lib/api/validation.ts is the reference;
 * test/editor-resources.test.ts compares them on a table of inputs).
 */
window.LeapcraftEditor = window.LeapcraftEditor || (function () {
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
            }
        };
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
            if (config.baseUrl) {
                body.baseUrl = config.baseUrl;
            }
            // A key typed into the account dialog and not deployed yet is still in the editor;
            // otherwise the placeholder asks the runtime for the deployed account's stored key.
            var key = config.credentials && config.credentials.apiKey;
            body.apiKey = key && key !== CREDENTIAL_PLACEHOLDER ? key : CREDENTIAL_PLACEHOLDER;
        }
        return body;
    }

    /** Device lists per account for this editor session: one request serves every keystroke. */
    var deviceLists = {};
    var DEVICE_LIST_TTL_MS = 30000;

    function deviceListKey(body) {
        return [body.id, body.baseUrl || "", body.apiKey || ""].join("\n");
    }

    function loadDevices(accountId, refresh, done) {
        var body = accountRequest(accountId);
        if (refresh) {
            body.refresh = true;
        }
        var key = deviceListKey(body);
        var entry = deviceLists[key];
        if (entry && !refresh) {
            if (entry.pending) {
                entry.pending.push(done);
                return;
            }
            if (Date.now() - entry.at < DEVICE_LIST_TTL_MS) {
                done(null, entry.devices);
                return;
            }
        }
        entry = deviceLists[key] = { pending: [done] };
        lookup("leapcraft/devices", body, function (err, data) {
            var waiting = entry.pending;
            entry.pending = null;
            if (err || !data || !Array.isArray(data.devices)) {
                if (deviceLists[key] === entry) {
                    delete deviceLists[key];
                }
                err = err || { status: 200, message: "" };
            } else {
                entry.devices = data.devices;
                entry.at = Date.now();
            }
            waiting.forEach(function (cb) { cb(err || null, err ? null : entry.devices); });
        });
    }

    /** "Conference Room B (D2:C1:AA:FF:3E:09) · airbird" */
    function deviceLabel(device) {
        var label = device.name ? device.name + " (" + device.physical_id + ")" : String(device.physical_id);
        return device.type ? label + " \u00b7 " + device.type : label;
    }

    /**
     * A device picker on a text input: suggestions from the selected account's device list
     * (POST leapcraft/devices) as the user types, a refresh button beside the field, and a hint
     * row when the list cannot be had. Anything typed stays accepted.
     *
     * options: input (selector or jQuery), account (the account select; default
     * #node-input-account), multiple (true: a comma-separated list; a pick is appended).
     */
    function devicePicker(options) {
        var input = $(options.input);
        var account = $(options.account || "#node-input-account");
        var multiple = !!options.multiple;
        if (!input.length || typeof input.autocomplete !== "function") {
            return null;
        }
        var row = input.closest(".form-row");
        var refreshButton = $('<button type="button" class="red-ui-button leapcraft-picker-refresh" style="margin-left:4px;"><i class="fa fa-refresh"></i></button>')
            .attr("title", common("editor.picker.refresh"));
        input.css("width", "calc(70% - 40px)");
        input.after(refreshButton);
        var hint = $('<div class="form-row form-tips leapcraft-picker-hint" style="display:none; margin-top:-6px;"></div>');
        hint.insertAfter(row);
        var devices = null;
        var generation = 0;
        /** The refresh button shows the whole list, not only what matches the field. */
        var showAll = false;

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

        /** The part of the field a pick replaces: all of it, or the last comma entry. */
        function currentTerm() {
            var value = text(input.val());
            return multiple ? value.slice(value.lastIndexOf(",") + 1).trim() : value.trim();
        }

        function load(refresh, then) {
            var id = accountId();
            if (!id) {
                devices = null;
                showHint(common("editor.picker.noAccount"), false);
                if (then) { then(); }
                return;
            }
            var mine = ++generation;
            refreshButton.prop("disabled", true).find("i").addClass("fa-spin");
            loadDevices(id, refresh, function (err, list) {
                if (mine !== generation) {
                    return; // the account changed meanwhile
                }
                refreshButton.prop("disabled", false).find("i").removeClass("fa-spin");
                if (err) {
                    devices = null;
                    showHint(errorText(err), !err.reason);
                } else {
                    devices = list;
                    showHint(list.length === 0 ? common("editor.picker.empty") : "", false);
                }
                if (then) { then(); }
            });
        }

        function suggestions(term) {
            if (!devices) {
                return [];
            }
            var needle = text(term).toLowerCase();
            var taken = multiple ? splitIds(input.val()) : [];
            var out = [];
            for (var i = 0; i < devices.length && out.length < 200; i++) {
                var d = devices[i];
                if (taken.indexOf(d.physical_id) !== -1) {
                    continue;
                }
                var haystack = (text(d.name) + "\n" + text(d.physical_id) + "\n" + text(d.type)).toLowerCase();
                if (needle === "" || haystack.indexOf(needle) !== -1) {
                    out.push({ label: deviceLabel(d), value: d.physical_id });
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

        input.autocomplete({
            minLength: 0,
            delay: 150,
            source: function (request, respond) {
                var term = showAll ? "" : currentTerm();
                showAll = false;
                if (devices) {
                    respond(suggestions(term));
                } else {
                    load(false, function () { respond(suggestions(term)); });
                }
            },
            focus: function () {
                return false; // keep what is typed while arrowing through the list
            },
            select: function (event, ui) {
                insert(ui.item.value);
                return false;
            },
            open: function () {
                // Above the edit tray.
                input.autocomplete("widget").css("z-index", 2000);
            }
        });

        refreshButton.on("click", function (event) {
            event.preventDefault();
            load(true, function () {
                if (devices && devices.length) {
                    input.trigger("focus");
                    showAll = true;
                    input.autocomplete("search", "");
                }
            });
        });

        account.on("change", function () {
            generation++;
            devices = null;
            refreshButton.prop("disabled", false).find("i").removeClass("fa-spin");
            showHint("", false);
        });

        return {
            refresh: function () { load(true); },
            destroy: function () {
                generation++;
                if (input.autocomplete("instance")) {
                    input.autocomplete("destroy");
                }
                refreshButton.remove();
                hint.remove();
            }
        };
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
        i18n: i18n,
        common: common,
        flowNode: flowNode,
        lookup: lookup,
        errorText: errorText,
        accountRequest: accountRequest,
        loadDevices: loadDevices,
        deviceLabel: deviceLabel,
        devicePicker: devicePicker
    };
})();
