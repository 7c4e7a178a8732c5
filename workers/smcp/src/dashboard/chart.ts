/**
 * The dashboard's charts, as a browser script (a string module, like client.ts) that
 * defines one global, `SmcpCharts`. Two halves on purpose:
 *
 * - `model(series, metric)` is pure arithmetic: the series API's answer
 *   (`GET .../servers/{s}/series?range=1h|24h`) in, each line's points with their
 *   values and plot coordinates out. Unit tests run it in Node on a fixture.
 * - `draw(model)` builds an inline SVG from that model with `createElementNS`,
 *   attributes and `textContent` only: no markup string is ever parsed, so the
 *   page's CSP (no inline style attributes, Trusted Types with no policy) holds.
 *   Colours come from classes in the page's one stylesheet, never from `style`.
 *
 * Every drawn point carries its series timestamp and value (`data-t`, `data-v`)
 * and a `<title>` tooltip, so a reader (and the e2e test) can check the picture
 * against the API's numbers. A step with no value (latency of a quiet minute) is a
 * gap in its line, not a zero.
 *
 * Plain ES2020 in a raw string: no backticks, no template substitutions.
 */
export const CHART_SCRIPT = String.raw`
var SmcpCharts = (function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 360, HEIGHT = 150;
  var PAD = { left: 44, right: 8, top: 10, bottom: 22 };

  /** What each chart plots, from one point of the series and its step in seconds. */
  var METRICS = {
    requests: {
      title: "Request rate", unit: "requests/min",
      lines: [{ name: "requests", value: function (p, step) { return p.requests * 60 / step; } }],
    },
    latency: {
      title: "Latency", unit: "ms",
      lines: [
        { name: "p50", value: function (p) { return p.p50Ms; } },
        { name: "p95", value: function (p) { return p.p95Ms; } },
        { name: "p99", value: function (p) { return p.p99Ms; } },
      ],
    },
    errors: {
      title: "Error rate", unit: "%",
      lines: [{ name: "errors", value: function (p) { return p.requests > 0 ? 100 * p.errors / p.requests : 0; } }],
    },
  };

  /** The smallest 1, 2 or 5 times a power of ten that is at least max (and at least 1). */
  function niceCeiling(max) {
    if (!(max > 1)) return 1;
    var power = Math.pow(10, Math.floor(Math.log10(max)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * power >= max) return steps[i] * power;
    return 10 * power;
  }
  function round(n) { return Math.round(n * 100) / 100; }
  function clock(iso) { var d = new Date(iso); return isNaN(d) ? "" : d.toISOString().slice(11, 16); }

  /**
   * @param series the series API's answer: { range, stepSeconds, points: [{ t, requests, errors, p50Ms, p95Ms, p99Ms }] }
   * @param metric "requests" | "latency" | "errors"
   */
  function model(series, metric) {
    var spec = METRICS[metric];
    if (!spec) throw new Error("unknown metric " + metric);
    var points = Array.isArray(series.points) ? series.points : [];
    var step = series.stepSeconds > 0 ? series.stepSeconds : 60;
    var plotW = WIDTH - PAD.left - PAD.right, plotH = HEIGHT - PAD.top - PAD.bottom;
    var xOf = function (i) { return round(PAD.left + (points.length > 1 ? i * plotW / (points.length - 1) : plotW / 2)); };
    var max = 0;
    var lines = spec.lines.map(function (line) {
      return {
        name: line.name,
        points: points.map(function (p, i) {
          var v = line.value(p, step);
          var value = typeof v === "number" && isFinite(v) ? v : null;
          if (value !== null && value > max) max = value;
          return { t: p.t, v: value, x: xOf(i) };
        }),
      };
    });
    var yMax = niceCeiling(max);
    lines.forEach(function (line) {
      line.points.forEach(function (pt) { pt.y = pt.v === null ? null : round(PAD.top + plotH * (1 - pt.v / yMax)); });
    });
    var xLabels = points.length ? [0, Math.floor((points.length - 1) / 2), points.length - 1].map(function (i) { return { x: xOf(i), text: clock(points[i].t) }; }) : [];
    if (xLabels.length) xLabels[xLabels.length - 1].text += " UTC";
    return {
      metric: metric, title: spec.title, unit: spec.unit, range: series.range, stepSeconds: step,
      width: WIDTH, height: HEIGHT, pad: PAD, yMax: yMax,
      yTicks: [0, yMax / 2, yMax].map(function (v) { return { v: v, y: round(PAD.top + plotH * (1 - v / yMax)) }; }),
      xLabels: xLabels, lines: lines,
    };
  }

  function node(tag, attrs, text) {
    var n = document.createElementNS(SVG, tag);
    for (var k in attrs) n.setAttribute(k, String(attrs[k]));
    if (text !== undefined) n.textContent = String(text);
    return n;
  }
  /** The runs of consecutive points that have a value: each is one polyline. */
  function runs(points) {
    var out = [], run = [];
    points.forEach(function (pt) {
      if (pt.y === null) { if (run.length) out.push(run); run = []; } else run.push(pt);
    });
    if (run.length) out.push(run);
    return out;
  }

  /** An <svg> for a model: axes, grid, one polyline per line and run, a marker per point. */
  function draw(m) {
    var svg = node("svg", { viewBox: "0 0 " + m.width + " " + m.height, role: "img", class: "chart", "data-metric": m.metric, "data-range": m.range });
    svg.append(node("title", {}, m.title + " (" + m.unit + "), last " + m.range));
    var right = m.width - m.pad.right, bottom = m.height - m.pad.bottom;
    m.yTicks.forEach(function (tick) {
      svg.append(node("line", { x1: m.pad.left, x2: right, y1: tick.y, y2: tick.y, class: "grid" }));
      svg.append(node("text", { x: m.pad.left - 4, y: tick.y + 3, "text-anchor": "end", class: "axis" }, round(tick.v)));
    });
    m.xLabels.forEach(function (label, i) {
      var anchor = i === 0 ? "start" : i === m.xLabels.length - 1 ? "end" : "middle";
      svg.append(node("text", { x: label.x, y: bottom + 14, "text-anchor": anchor, class: "axis" }, label.text));
    });
    m.lines.forEach(function (line) {
      var g = node("g", { class: "line line-" + line.name, "data-line": line.name });
      runs(line.points).forEach(function (run) {
        g.append(node("polyline", { points: run.map(function (pt) { return pt.x + "," + pt.y; }).join(" "), fill: "none" }));
      });
      line.points.forEach(function (pt) {
        if (pt.y === null) return;
        var dot = node("circle", { cx: pt.x, cy: pt.y, r: 1.6, "data-t": pt.t, "data-v": pt.v });
        dot.append(node("title", {}, pt.t + " " + line.name + ": " + round(pt.v) + " " + m.unit));
        g.append(dot);
      });
      svg.append(g);
    });
    return svg;
  }

  return { model: model, draw: draw, metrics: Object.keys(METRICS) };
})();
`;
