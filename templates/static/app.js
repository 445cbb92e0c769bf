// Augur's pages: a small client of the JSON API, signed in by the session
// cookie the browser sends with every same-origin request. Every value from
// the API is put into the page as text (never as HTML), so nothing it says
// can become markup.
"use strict";

const COLORS = { lstm: "#d9480f", arima: "#2f9e44", arima_auto: "#0c8599", linreg: "#7048e8", drift: "#e8590c", naive: "#868e96" };

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return new Promise(() => {}); }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = data.error || {};
    throw new Error((e.field ? e.field + ": " : "") + (e.message || res.statusText));
  }
  return data;
}

const fmt = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x)) ? "–" : Number(x).toFixed(d);

// ---------- index ----------

async function indexPage() {
  $("predict-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const body = {
      ticker: f.get("ticker"),
      models: f.getAll("models"),
      horizon: Number(f.get("horizon")),
      lookback: Number(f.get("lookback")),
      sentiment: f.get("sentiment") === "on",
      lstm_mode: f.get("lstm_mode"),
    };
    try {
      const job = await api("POST", "/api/v1/predictions", body);
      location.href = "/jobs/" + job.id;
    } catch (e) {
      $("predict-error").textContent = e.message;
      $("predict-error").hidden = false;
    }
  });
  $("sentiment-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const texts = String(f.get("texts")).split("\n").map((t) => t.trim()).filter(Boolean);
    const body = texts.length ? { texts } : { ticker: f.get("ticker") };
    if (texts.length && f.get("ticker")) body.ticker = f.get("ticker");
    try {
      const job = await api("POST", "/api/v1/sentiment", body);
      location.href = "/jobs/" + job.id;
    } catch (e) {
      $("sentiment-error").textContent = e.message;
      $("sentiment-error").hidden = false;
    }
  });
  try {
    const page = await api("GET", "/api/v1/jobs?limit=20");
    const rows = $("jobs");
    for (const j of page.jobs) {
      rows.append(el("tr", {},
        el("td", {}, el("a", { href: "/jobs/" + j.id }, new Date(j.created_at).toLocaleString())),
        el("td", {}, j.kind), el("td", {}, j.ticker || "–"),
        el("td", {}, el("span", { class: "badge " + j.status }, j.status)),
        el("td", {}, j.progress + "%")));
    }
    $("jobs-empty").hidden = page.jobs.length > 0;
  } catch (e) {
    $("jobs-empty").textContent = e.message; $("jobs-empty").hidden = false;
  }
}

// ---------- job ----------

async function jobPage(id) {
  $("job-cancel").addEventListener("click", async () => {
    try { render(await api("POST", "/api/v1/jobs/" + id + "/cancel")); } catch (e) { showError(e.message); }
  });
  stream(id);
}

function showError(msg) { $("job-error").textContent = msg; $("job-error").hidden = false; }

// stream follows the job's Server-Sent Events. The session cookie
// authenticates them, so a plain EventSource does. The server ends the
// stream when the job is final; closing then keeps EventSource from
// reconnecting.
function stream(id) {
  const es = new EventSource("/api/v1/jobs/" + id + "/events");
  es.addEventListener("job", (ev) => {
    const job = JSON.parse(ev.data);
    render(job);
    if (["succeeded", "failed", "canceled"].includes(job.status)) es.close();
  });
  es.onerror = () => {
    // EventSource retries by itself while the server is away; a closed
    // stream with no retry means it was refused (signed out, no such job).
    if (es.readyState === EventSource.CLOSED) {
      api("GET", "/api/v1/jobs/" + id).then(render, (e) => showError(e.message));
    }
  };
}

function render(job) {
  const KINDS = { prediction: "Prediction", sentiment: "Sentiment", leaderboard: "Model leaderboard" };
  $("job-title").textContent = (KINDS[job.kind] || job.kind) + (job.ticker ? " · " + job.ticker : "");
  document.title = $("job-title").textContent + " · Augur";
  const status = $("job-status");
  status.textContent = job.status; status.className = "badge " + job.status;
  $("job-bar").style.width = job.progress + "%";
  $("job-cancel").hidden = !(job.status === "queued" || job.status === "running");
  const d = job.progress_detail;
  let stage = job.status === "queued" ? "Waiting for a worker…" : "";
  if (d) stage = d.message + (d.loss ? " · training loss " + d.loss.toExponential(3) : "");
  // The progress of a lost worker is stale: say what is really happening.
  if (job.worker_lost) stage = "Worker lost, waiting to retry" + (d ? " · last seen: " + d.message : "");
  $("job-stage").textContent = job.status === "running" || job.status === "queued" ? stage + " (" + job.progress + "%)" : "";
  if (job.error) showError(job.error);
  if (!job.result) return;
  if (job.kind === "prediction") renderPrediction(job.result);
  else if (job.kind === "leaderboard") { $("job-source").replaceChildren(el("a", { href: "/models" }, "See the model leaderboard")); $("job-source").hidden = false; }
  else renderSentiment(job.result, job.status === "failed" ? job.error : "");
}

function renderPrediction(r) {
  const p = r.prices;
  const src = $("job-source");
  src.textContent = p.live
    ? `Prices from ${p.source}, ${r.data_bars} trading days from ${r.data_from} to ${r.last_date}.`
    : `These are the bundled sample prices (${p.source}), not live market data: ${r.data_bars} trading days from ${r.data_from} to ${r.last_date}.`;
  src.className = p.live ? "muted" : "notice";
  src.hidden = false;

  const names = Object.keys(r.models).sort((a, b) => (a === "naive") - (b === "naive") || a.localeCompare(b));
  drawChart(r, names);
  $("chart-card").hidden = false;

  const rows = $("models"); rows.replaceChildren();
  for (const n of names) {
    const m = r.models[n];
    rows.append(el("tr", {},
      el("td", {}, el("i", { style: `display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;background:${COLORS[n] || "#333"}` }), n),
      // Results stored before reports said what they predict have no label.
      el("td", {}, m.predicts || "—"),
      el("td", {}, fmt(m.metrics.rmse, 3)), el("td", {}, fmt(m.persistence.rmse, 3)),
      el("td", {}, fmt(m.metrics.mae, 3)), el("td", {}, fmt(m.metrics.mape) + "%"),
      el("td", {}, direction(m.metrics)),
      el("td", { class: m.beats_persistence ? "yes" : "no" }, n === r.baseline ? "(baseline)" : m.verdict || (m.beats_persistence ? "yes" : "no")),
      el("td", {}, coverage(m.coverage)),
      el("td", {}, fmt(m.forecast[0]) + (m.forecast_pi95 && m.forecast_pi95.length ? ` (${fmt(m.forecast_pi95[0].lower)} – ${fmt(m.forecast_pi95[0].upper)})` : "")),
      el("td", {}, fmt(m.seconds, 2))));
  }
  for (const [n, msg] of Object.entries(r.model_errors || {})) rows.append(el("tr", {}, el("td", {}, n), el("td", { colspan: 10, class: "error" }, msg)));
  $("models-card").hidden = false;

  if (r.recommendation) {
    const rec = r.recommendation;
    $("rec-action").textContent = rec.action + " · confidence " + fmt(100 * rec.confidence, 0) + "%";
    $("rec-action").className = "badge " + rec.action;
    $("rec-reasons").replaceChildren(...rec.reasons.map((x) => el("li", {}, x)));
    $("rec-disclaimer").textContent = rec.disclaimer;
    $("recommendation-card").hidden = false;
  }
  if (r.sentiment) renderSentiment(r.sentiment, r.sentiment_error);
}

// pText writes a p-value as the API's verdicts do.
const pText = (p) => p < 0.001 ? "p < 0.001" : "p = " + Number(p).toFixed(3);

// direction describes the direction calls: hit rate, share of days called,
// and the binomial test. Results stored before calls were counted have only
// the hit rate.
function direction(mt) {
  if (mt.directional_call_share === undefined) return fmt(100 * mt.directional_accuracy, 1) + "%";
  if (!mt.directional_call_share) return "no calls";
  return `${fmt(100 * mt.directional_accuracy, 1)}% of ${fmt(100 * mt.directional_call_share, 0)}% days called (${pText(mt.directional_p_value)})`;
}

// coverage shows each level's empirical coverage beside the nominal one.
function coverage(cs) {
  if (!cs || !cs.length) return "–";
  return cs.map((c) => `${fmt(100 * c.covered, 0)}% of ${fmt(100 * c.level, 0)}%`).join(" · ");
}

function renderSentiment(s, err) {
  // A failed chain has no polarity to show, only its sources' statuses:
  // unavailable, never a neutral 0.
  const unavailable = err || s.polarity === null;
  $("sent-label").textContent = unavailable ? "unavailable" : s.label + " " + fmt(s.polarity, 3);
  $("sent-label").className = "badge " + (unavailable ? "error" : s.label);
  $("sent-summary").textContent = unavailable ? (err || "No source gave an article to score.") : `${s.positive} positive, ${s.negative} negative, ${s.neutral} neutral of ${s.articles.length} articles.`;
  $("articles").replaceChildren(...s.articles.map((a) => el("tr", {},
    el("td", {}, fmt(a.score, 3)),
    el("td", {}, a.url && /^https?:\/\//.test(a.url) ? el("a", { href: a.url, rel: "noopener noreferrer", target: "_blank" }, a.title) : a.title),
    el("td", {}, a.source))));
  $("sources").replaceChildren(...(s.sources || []).map((x) => el("tr", {},
    el("td", {}, x.source), el("td", {}, el("span", { class: "badge " + x.status }, x.status + (x.cached ? " (cached)" : ""))),
    el("td", {}, x.articles), el("td", { class: "muted" }, x.reason || ""))));
  $("sentiment-card").hidden = false;
}

// drawChart draws closes, each model's test-day predictions and the
// forecast as an SVG line chart, with each model's 80% and 95% prediction
// intervals shaded in its colour: on the test days, where the closes show
// how often they held, and over the forecast.
function drawChart(r, names) {
  const NS = "http://www.w3.org/2000/svg";
  const W = 1000, H = 380, L = 60, R = 20, T = 12, B = 34;
  const s = r.series, n0 = s.offset, nHist = s.closes.length, horizon = r.forecast_dates.length;
  const total = nHist + horizon;
  const ys = [...s.closes];
  for (const n of names) {
    const m = r.models[n];
    ys.push(...m.forecast);
    for (const b of m.forecast_pi95 || []) ys.push(b.lower, b.upper);
    for (const t of m.test) if (t.index >= n0) { ys.push(t.predicted); if (t.pi95) ys.push(t.pi95.lower, t.pi95.upper); }
  }
  let lo = Math.min(...ys), hi = Math.max(...ys); const pad = (hi - lo) * 0.06 || 1; lo -= pad; hi += pad;
  const x = (i) => L + (W - L - R) * i / Math.max(1, total - 1);
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Closing prices with model predictions");
  const add = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; svg.append(e); return e; };
  for (let k = 0; k <= 4; k++) {
    const v = lo + (hi - lo) * k / 4;
    add("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eef0f4" });
    add("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, v.toFixed(v < 10 ? 2 : 0));
  }
  const dates = [...s.dates, ...r.forecast_dates];
  for (let k = 0; k <= 5; k++) {
    const i = Math.round((total - 1) * k / 5);
    add("text", { x: x(i), y: H - 10, "text-anchor": k === 0 ? "start" : k === 5 ? "end" : "middle" }, dates[i]);
  }
  add("rect", { x: x(nHist - 1), y: T, width: x(total - 1) - x(nHist - 1), height: H - T - B, fill: "#f1f5ff" });
  const path = (pts, color, width, dash) => {
    if (pts.length < 2) return;
    add("path", { d: pts.map(([i, v], k) => (k ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1)).join(""),
      fill: "none", stroke: color, "stroke-width": width, "stroke-dasharray": dash || "", "stroke-linejoin": "round" });
  };
  // band shades the area between lower and upper bounds given as
  // [i, {lower, upper}] pairs; a run without bounds breaks it into pieces.
  const band = (pts, color, opacity) => {
    const runs = [[]];
    for (const [i, b] of pts) { if (b) runs[runs.length - 1].push([i, b]); else if (runs[runs.length - 1].length) runs.push([]); }
    for (const run of runs) {
      if (run.length < 2) continue;
      const up = run.map(([i, b]) => x(i).toFixed(1) + " " + y(b.upper).toFixed(1));
      const down = run.slice().reverse().map(([i, b]) => x(i).toFixed(1) + " " + y(b.lower).toFixed(1));
      add("path", { d: "M" + up.join("L") + "L" + down.join("L") + "Z", fill: color, "fill-opacity": opacity, stroke: "none" });
    }
  };
  let shaded = false;
  for (const n of names) {
    const m = r.models[n], c = COLORS[n] || "#333";
    const test = m.test.filter((t) => t.index >= n0);
    // The forecast bands start from the last close, which is known exactly.
    const last = { lower: s.closes[nHist - 1], upper: s.closes[nHist - 1] };
    for (const [level, opacity] of [["pi95", 0.08], ["pi80", 0.14]]) {
      band(test.map((t) => [t.index - n0, t[level]]), c, opacity);
      const fc = m["forecast_" + level] || [];
      if (fc.length) band([[nHist - 1, last], ...fc.map((b, k) => [nHist + k, b])], c, opacity);
      shaded = shaded || fc.length > 0 || test.some((t) => t[level]);
    }
  }
  path(s.closes.map((v, i) => [i, v]), "#1d2330", 2);
  const legend = $("legend"); legend.replaceChildren(el("span", {}, el("i", { style: "background:#1d2330" }), "close"));
  for (const n of names) {
    const m = r.models[n], c = COLORS[n] || "#333";
    path(m.test.filter((t) => t.index >= n0).map((t) => [t.index - n0, t.predicted]), c, 1.3);
    path([[nHist - 1, s.closes[nHist - 1]], ...m.forecast.map((v, k) => [nHist + k, v])], c, 2, "5 4");
    legend.append(el("span", {}, el("i", { style: "background:" + c }), n));
  }
  legend.append(el("span", {}, "dashed: forecast · blue background: the next " + horizon + " trading days" +
    (shaded ? " · bands: 80% (darker) and 95% prediction intervals" : "")));
  $("chart").replaceChildren(svg);
}

// ---------- models ----------

// modelsPage shows the leaderboard, polling while the first one is
// computed.
async function modelsPage() {
  const status = $("models-status");
  let data;
  try {
    data = await api("GET", "/api/v1/models");
  } catch (e) {
    $("models-error").textContent = e.message;
    $("models-error").hidden = false;
    status.hidden = true;
    return;
  }
  if (data.status !== "ready") {
    status.textContent = `Computing the leaderboard in the background (${data.progress || 0}%)… it takes a minute or two, once a day.`;
    setTimeout(modelsPage, 3000);
    return;
  }
  const lb = data.leaderboard;
  status.textContent = `${lb.series} stocks, ${lb.horizon}-day forecasts, computed ${new Date(data.computed_at).toLocaleString()}` +
    (data.refreshing ? "; a fresh one is being computed." : ".");
  const pctOrDash = (v, d = 1) => v === null || v === undefined ? "–" : fmt(100 * v, d) + "%";
  $("leaderboard").replaceChildren(...lb.models.map((m) => el("tr", {},
    el("td", {}, el("i", { style: `display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;background:${COLORS[m.model] || "#333"}` }), m.model),
    el("td", { class: m.beats_persistence > 0 ? "yes" : "no" }, `${m.beats_persistence} of ${m.series}` + (m.failed ? ` (${m.failed} failed)` : "")),
    el("td", {}, m.median_p_value === null ? "–" : fmt(m.median_p_value, 3)),
    el("td", {}, m.median_skill === null ? "–" : (m.median_skill >= 0 ? "+" : "") + fmt(100 * m.median_skill, 2) + "%"),
    el("td", {}, pctOrDash(m.mean_hit_rate)),
    el("td", {}, pctOrDash(m.mean_coverage_80)),
    el("td", {}, pctOrDash(m.mean_coverage_95)),
    el("td", {}, fmt(m.seconds, 1)))));
  $("models-table").hidden = false;
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "index") indexPage();
  if (page === "job") jobPage(document.body.dataset.jobId);
  if (page === "models") modelsPage();
});
