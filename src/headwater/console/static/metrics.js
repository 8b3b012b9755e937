// The metrics page: scrapes every 2 s, rates and percentiles from successive scrapes, inline SVG charts.
import { scrape, total } from "./scrape.js";

const HISTORY = 60;
const COLORS = ["#0b63ce", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#087f5b", "#c2255c", "#495057"];
const history = []; // [{time, samples}]
const status = document.getElementById("metrics-status");

function rate(name, by = null, where = {}) {
  // per-second increase between successive scrapes, per group
  const points = new Map();
  for (let i = 1; i < history.length; i++) {
    const [a, b] = [history[i - 1], history[i]];
    const seconds = b.time - a.time;
    const before = total(a.samples, name, where, by), after = total(b.samples, name, where, by);
    const groups = by ? after : new Map([["", after]]);
    for (const [key, value] of groups) {
      const old = by ? before.get(key) ?? 0 : before ?? 0;
      if (!points.has(key)) points.set(key, []);
      points.get(key).push([b.time, Math.max(0, (value - old) / seconds)]);
    }
  }
  return points;
}

function gauge(name, by) {
  const points = new Map();
  for (const { time, samples } of history) {
    for (const [key, value] of total(samples, name, {}, by)) {
      if (!points.has(key)) points.set(key, []);
      points.get(key).push([time, value]);
    }
  }
  return points;
}

function percentiles() {
  // from the latency histogram's buckets, summed over operations, between successive scrapes
  const out = new Map([["p50", []], ["p90", []], ["p99", []]]);
  for (let i = 1; i < history.length; i++) {
    const buckets = (s) => total(s, "headwater_request_duration_seconds_bucket", {}, "le");
    const [a, b] = [buckets(history[i - 1].samples), buckets(history[i].samples)];
    const bounds = [...b.keys()].map((le) => [le === "+Inf" ? Infinity : Number(le), b.get(le) - (a.get(le) || 0)])
      .sort((x, y) => x[0] - y[0]);
    const count = bounds.length ? bounds[bounds.length - 1][1] : 0;
    if (!count) continue;
    for (const [label, q] of [["p50", 0.5], ["p90", 0.9], ["p99", 0.99]]) {
      const found = bounds.find(([, c]) => c >= q * count);
      const le = found && Number.isFinite(found[0]) ? found[0] : bounds[bounds.length - 2]?.[0] ?? 0;
      out.get(label).push([history[i].time, le * 1000]);
    }
  }
  return out;
}

function groupSize() {
  const out = [];
  for (let i = 1; i < history.length; i++) {
    const sum = (s) => total(s, "headwater_writer_group_size_sum") ?? 0;
    const count = (s) => total(s, "headwater_writer_group_size_count") ?? 0;
    const ops = sum(history[i].samples) - sum(history[i - 1].samples);
    const groups = count(history[i].samples) - count(history[i - 1].samples);
    if (groups > 0) out.push([history[i].time, ops / groups]);
  }
  return new Map([["operations per commit", out]]);
}

function draw(id, series, empty = "No data yet.") {
  const figure = document.getElementById("chart-" + id);
  const svg = figure.querySelector("svg");
  const legend = figure.querySelector(".legend");
  const top = [...series.entries()].filter(([, p]) => p.length)
    .sort((x, y) => y[1].at(-1)[1] - x[1].at(-1)[1]).slice(0, COLORS.length);
  svg.replaceChildren();
  legend.replaceChildren();
  if (!top.length) { legend.textContent = empty; return; }
  const all = top.flatMap(([, p]) => p);
  const [t0, t1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const yMax = Math.max(1e-9, ...all.map((p) => p[1]));
  const SVG = "http://www.w3.org/2000/svg";
  const base = document.createElementNS(SVG, "line");
  base.setAttribute("x1", "0"); base.setAttribute("x2", "320"); base.setAttribute("y1", "119"); base.setAttribute("y2", "119");
  base.setAttribute("class", "axis");
  svg.append(base);
  top.forEach(([name, points], i) => {
    const xy = points.map(([t, v]) => [t1 > t0 ? ((t - t0) / (t1 - t0)) * 316 + 2 : 318, 117 - (v / yMax) * 112]);
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("stroke", COLORS[i]);
    line.setAttribute("points", xy.map(([x, y]) => `${x},${y}`).join(" "));
    svg.append(line);
    const [x, y] = xy.at(-1); // the newest value, marked
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("cx", x); dot.setAttribute("cy", y); dot.setAttribute("r", "2.5"); dot.setAttribute("fill", COLORS[i]);
    svg.append(dot);
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = COLORS[i];
    item.append(swatch, `${name || "all"}: ${points.at(-1)[1].toFixed(points.at(-1)[1] < 10 ? 2 : 0)}`);
    legend.append(item);
  });
  const scale = document.createElement("span");
  scale.textContent = `max ${yMax.toPrecision(3)}`;
  legend.append(scale);
}

async function tick() {
  try {
    const doc = await scrape();
    if (doc.error) {
      status.textContent = `${doc.error.type}: ${doc.error.message}`;
      status.className = "error";
    } else {
      history.push(doc);
      if (history.length > HISTORY) history.shift();
      status.textContent = `Scraped /metrics ${history.length} time(s); rates between successive scrapes.`;
      draw("requests", rate("headwater_requests_total", "operation"), "Waiting for a second scrape…");
      draw("latency", percentiles(), "Waiting for requests…");
      draw("writes", new Map([["operations", rate("headwater_writer_group_size_sum").get("") || []]]));
      draw("group", groupSize());
      draw("stream_written", rate("headwater_stream_records_written_total"));
      draw("stream_read", rate("headwater_stream_records_read_total", "service"));
      draw("iterator_age", gauge("headwater_event_source_mapping_iterator_age_seconds", "function"), "No mappings.");
      draw("wcu", rate("headwater_consumed_write_capacity_units_total", "table"), "Counted when the server meters usage (headwater serve --meter-usage).");
    }
  } catch (err) {
    status.textContent = "Scrape failed: " + err.message;
  }
  setTimeout(tick, 2000);
}
tick();
