/**
 * The demo dashboard's geometry as the browser draws it, for the browser tests: where each CO2
 * gauge puts its scale labels, value and unit, how the groups fill the page's width, whether the
 * room keys show every name whole, and the charts' y axes. Read with getBoundingClientRect and
 * text ranges (the text itself, not its box), inside the page.
 *
 * (No named functions inside page.evaluate: tsx would wrap them in a helper the page lacks.)
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { Page } from 'playwright-core';

export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface GaugeGeometry {
  id: string;
  /** The scale's end labels (400, 1600), where shown. */
  limits: Array<{ text: string; box: Box }>;
  value: { text: string; box: Box } | null;
  unit: { text: string; box: Box } | null;
  title: { text: string; box: Box } | null;
}

/** Each gauge's labels, by the boxes of their text. */
export async function gaugeGeometry(page: Page, gaugeIds: string[]): Promise<GaugeGeometry[]> {
  return page.evaluate((ids) => ids.map((id) => {
    const widget = document.getElementById(`nrdb-ui-widget-${id}`);
    const parts = ([
      ...Array.from(widget?.querySelectorAll('#limits text') ?? []).map((el) => ['limit', el]),
      ['value', widget?.querySelector('.nrdb-ui-gauge-value span')],
      ['unit', widget?.querySelector('.nrdb-ui-gauge-value label')],
      ['title', widget?.querySelector('.nrdb-ui-gauge-title')],
    ] as Array<[string, Element | null | undefined]>).map(([kind, el]) => {
      if (!el) return null;
      // Hidden by itself or by its group (the style drops the limits of a tiny gauge).
      for (let e: Element | null = el; e && e !== widget; e = e.parentElement) {
        const style = getComputedStyle(e);
        if (style.display === 'none' || style.visibility === 'hidden') return null;
      }
      const range = document.createRange();
      range.selectNodeContents(el);
      const r = el instanceof SVGElement ? el.getBoundingClientRect() : range.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) return null;
      return { kind, text: (el.textContent ?? '').trim(), box: { left: r.left, top: r.top, right: r.right, bottom: r.bottom } };
    });
    const shown = parts.filter((p) => p !== null) as Array<{ kind: string; text: string; box: any }>;
    return {
      id,
      limits: shown.filter((p) => p.kind === 'limit').map((p) => ({ text: p.text, box: p.box })),
      value: shown.find((p) => p.kind === 'value') ?? null,
      unit: shown.find((p) => p.kind === 'unit') ?? null,
      title: shown.find((p) => p.kind === 'title') ?? null,
    };
  }), gaugeIds);
}

export function overlaps(a: Box, b: Box): boolean {
  return a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
}

/** The page's groups, row by row (same top), with the width of the page's content. */
export async function groupRows(page: Page): Promise<{ left: number; right: number; rows: Array<Array<{ id: string; left: number; right: number }>> }> {
  return page.evaluate(() => {
    const groups = Array.from(document.querySelectorAll('.nrdb-ui-group')).map((g) => {
      const r = g.getBoundingClientRect();
      return { id: g.id, left: r.left, right: r.right, top: Math.round(r.top) };
    });
    const rows: Record<string, Array<{ id: string; left: number; right: number }>> = {};
    for (const g of groups) (rows[g.top] ??= []).push({ id: g.id, left: g.left, right: g.right });
    const left = Math.min(...groups.map((g) => g.left));
    const right = Math.max(...groups.map((g) => g.right));
    return { left, right, rows: Object.keys(rows).sort((a, b) => Number(a) - Number(b)).map((k) => rows[k]) };
  });
}

export interface KeyEntry {
  name: string;
  color: string;
  /** The name is cut (its text wider than its box, or its box outside the key). */
  cut: boolean;
}

/** The room key of a template widget: every entry, its colour (#rrggbb) and whether its name is cut. */
export async function roomKey(page: Page, widgetId: string): Promise<KeyEntry[]> {
  return page.evaluate((id) => {
    const key = document.querySelector(`#nrdb-ui-widget-${id} .leapcraft-key`);
    if (!key) return [];
    const keyBox = key.getBoundingClientRect();
    return Array.from(key.querySelectorAll('.leapcraft-key-room')).map((room) => {
      const swatch = room.querySelector('.leapcraft-key-colour') as HTMLElement | null;
      const rgb = (swatch ? getComputedStyle(swatch).backgroundColor : '').match(/\d+/g) ?? [];
      const color = `#${rgb.slice(0, 3).map((c) => Number(c).toString(16).padStart(2, '0')).join('')}`.toUpperCase();
      const r = room.getBoundingClientRect();
      const el = room as HTMLElement;
      const cut = el.scrollWidth > el.clientWidth + 1 || r.right > keyBox.right + 1 || r.left < keyBox.left - 1;
      return { name: (room.textContent ?? '').trim(), color, cut };
    });
  }, widgetId);
}

export interface AxisInfo {
  min: number;
  max: number;
  ticks: number[];
  dataMin: number;
  dataMax: number;
}

/** A chart's y axis as ECharts lays it out (window.uiCharts, set when window.Cypress is), and its data's extent. */
export async function yAxis(page: Page, chartId: string): Promise<AxisInfo | null> {
  return page.evaluate((id) => {
    const chart = (window as any).uiCharts?.[id]?.chart;
    if (!chart) return null;
    const axis = chart.getModel().getComponent('yAxis').axis;
    const [min, max] = axis.scale.getExtent();
    const ticks = axis.scale.getTicks().map((t: { value: number }) => t.value);
    const values = (chart.getOption().series ?? []).flatMap((s: any) => (s.data ?? []).map((p: any) => Number(p[1])));
    return { min, max, ticks, dataMin: Math.min(...values), dataMax: Math.max(...values) };
  }, chartId);
}
