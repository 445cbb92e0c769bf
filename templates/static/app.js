// Augur's pages: a small client of the JSON API, signed in by the session
// cookie the browser sends with every same-origin request. Every value from
// the API is put into the page as text (never as HTML), so nothing it says
// can become markup.
"use strict";

// COLORS are the models' colours: the Okabe–Ito palette, which people
// with any common colour blindness tell apart. Its yellow is darkened for
// drift, to read on white; naive, the baseline, is grey.
const COLORS = { lstm: "#D55E00", arima: "#009E73", arima_auto: "#56B4E9", ets: "#0072B2", theta: "#CC79A7", linreg: "#E69F00", drift: "#8F7F00", naive: "#868e96" };

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

// ---------- watchlists ----------

// Each watchlist's Run form submits one batch through the API and goes to
// the batch's page.
function watchlistsPage() {
  scheduleForm();
  for (const form of document.querySelectorAll("form.run-batch")) {
    const error = form.querySelector(".error");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const models = new FormData(form).getAll("models");
      try {
        const batch = await api("POST", "/api/v1/batches", { watchlist_id: Number(form.dataset.watchlist), models });
        location.href = "/batches/" + batch.id;
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
      }
    });
  }
}

// The schedule form defaults to the browser's own time zone, and submits
// through the API.
function scheduleForm() {
  const form = document.querySelector("form.schedule-form");
  if (!form) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) form.querySelector("input[name=time_zone]").value = zone;
  const error = form.querySelector(".error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      await api("POST", "/api/v1/schedules", {
        watchlist_id: Number(f.get("watchlist_id")), cron: f.get("cron"), time_zone: f.get("time_zone"),
        catch_up: f.get("catch_up") === "on", models: ["linreg"],
      });
      location.reload();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
}

// ---------- index ----------

// optional adds the form's field name to body when it was filled in, as a
// number when asNumber: a blank field leaves the server's default.
function optional(body, f, name, asNumber) {
  const v = String(f.get(name) || "").trim();
  if (v !== "") body[name] = asNumber ? Number(v) : v;
}

async function submitJob(form, path, errorId, makeBody) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const job = await api("POST", path, makeBody(new FormData(form)));
      location.href = "/jobs/" + job.id;
    } catch (e) {
      $(errorId).textContent = e.message;
      $(errorId).hidden = false;
    }
  });
}

async function indexPage() {
  submitJob($("predict-form"), "/api/v1/predictions", "predict-error", (f) => {
    const body = {
      ticker: f.get("ticker"),
      models: f.getAll("models"),
      horizon: Number(f.get("horizon")),
      lookback: Number(f.get("lookback")),
      sentiment: f.get("sentiment") === "on",
      lstm_mode: f.get("lstm_mode"),
    };
    if (body.sentiment) optional(body, f, "preset");
    for (const name of ["recommendation", "priority", "bands"]) optional(body, f, name);
    optional(body, f, "seed", true);
    const origins = String(f.get("evaluation_origins") || "").trim();
    if (origins !== "") body.evaluation = { origins: Number(origins) };
    return body;
  });
  submitJob($("sentiment-form"), "/api/v1/sentiment", "sentiment-error", (f) => {
    const texts = String(f.get("texts")).split("\n").map((t) => t.trim()).filter(Boolean);
    const body = texts.length ? { texts } : { ticker: f.get("ticker") };
    if (texts.length && f.get("ticker")) body.ticker = f.get("ticker");
    for (const name of ["preset", "priority"]) optional(body, f, name);
    optional(body, f, "num_articles", true);
    return body;
  });
  let cursor = "";
  const more = async () => {
    try {
      const page = await api("GET", "/api/v1/jobs?limit=20" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      const rows = $("jobs");
      for (const j of page.jobs) {
        rows.append(el("tr", {},
          el("td", { "data-label": "Created" }, el("a", { href: "/jobs/" + j.id }, new Date(j.created_at).toLocaleString())),
          el("td", { "data-label": "Kind" }, j.kind), el("td", { "data-label": "Ticker" }, j.ticker || "–"),
          el("td", { "data-label": "Status" }, el("span", { class: "badge " + j.status }, j.status),
            // A job waiting for its retry is not stuck: say when it goes on.
            j.retry && j.retry.next_attempt_at
              ? el("span", { class: "muted", title: j.retry.last_error }, ` attempt ${j.attempts} failed · retry at ${new Date(j.retry.next_attempt_at).toLocaleTimeString()}`)
              : ""),
          // A job that stopped part way has no progress worth a figure.
          el("td", { "data-label": "Progress" }, j.status === "failed" || j.status === "canceled" ? "–" : j.progress + "%")));
      }
      cursor = page.next_cursor || "";
      $("jobs-more").hidden = !cursor;
      $("jobs-empty").hidden = rows.children.length > 0;
    } catch (e) {
      $("jobs-empty").textContent = e.message; $("jobs-empty").hidden = false;
    }
  };
  $("jobs-more").addEventListener("click", more);
  more();
}

// ---------- job ----------

async function jobPage(id) {
  // With scripts the Cancel form goes through the API, and the page
  // updates from the job's events instead of reloading.
  $("job-cancel-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { render(await api("POST", "/api/v1/jobs/" + id + "/cancel")); } catch (e) { showError(e.message); }
  });
  stream(id);
}

function showError(msg, quiet) {
  $("job-error").textContent = msg;
  $("job-error").className = quiet ? "muted" : "error";
  $("job-error").hidden = false;
}

// RESUBMIT is where each kind of job is submitted again.
const RESUBMIT = { prediction: "/api/v1/predictions", sentiment: "/api/v1/sentiment" };

// runAgain offers a finished job's "Run again": the same parameters as a
// new job, which runs the models afresh rather than taking a stored
// result (a sentiment job has no stored result to take).
function runAgain(job) {
  const button = $("job-again");
  if (!button || !RESUBMIT[job.kind] || !FINAL.includes(job.status) || !job.params) return;
  button.hidden = false;
  if (button.dataset.ready) return;
  button.dataset.ready = "1";
  button.addEventListener("click", async () => {
    const body = { ...job.params };
    if (job.ticker) body.ticker = job.ticker;
    if (job.kind === "prediction") body.fresh = true;
    button.disabled = true;
    try {
      const again = await api("POST", RESUBMIT[job.kind], body);
      location.href = "/jobs/" + again.id;
    } catch (e) {
      button.disabled = false;
      showError(e.message);
    }
  });
}

// stream follows the job's Server-Sent Events. The session cookie
// authenticates them, so a plain EventSource does. The events carry the
// job's state, not its result: the final one names result_url, fetched
// once to draw the result. The server ends the stream when the job is
// final; closing then keeps EventSource from reconnecting.
function stream(id) {
  const es = new EventSource("/api/v1/jobs/" + id + "/events");
  es.addEventListener("job", (ev) => {
    const job = JSON.parse(ev.data);
    render(job);
    if (FINAL.includes(job.status)) {
      es.close();
      if (job.result_url) api("GET", job.result_url).then(render, (e) => showError(e.message));
    }
  });
  es.onerror = () => {
    // EventSource retries by itself while the server is away; a closed
    // stream with no retry means it was refused (signed out, no such job).
    if (es.readyState === EventSource.CLOSED) {
      api("GET", "/api/v1/jobs/" + id).then(render, (e) => showError(e.message));
    }
  };
}

const FINAL = ["succeeded", "failed", "canceled"];

function render(job) {
  const KINDS = { prediction: "Prediction", sentiment: "Sentiment", leaderboard: "Model leaderboard" };
  $("job-title").textContent = (KINDS[job.kind] || job.kind) + (job.ticker ? " · " + job.ticker : "");
  document.title = $("job-title").textContent + " · Augur";
  const status = $("job-status");
  status.textContent = job.status; status.className = "badge " + job.status;
  const final = FINAL.includes(job.status);
  // A finished job has no progress to show: a failed one stopped part way.
  $("job-progress").hidden = final;
  $("job-progress").setAttribute("aria-valuenow", job.progress);
  $("job-bar").style.width = job.progress + "%";
  $("job-cancel-form").hidden = final;
  runAgain(job);
  const d = job.progress_detail;
  let stage = job.status === "queued" ? "Waiting for a worker…" : "Running…";
  if (job.waiting_for_turn) stage = "Waiting for your turn: other users' jobs go first…";
  if (d) stage = d.message + (d.loss ? " · training loss " + d.loss.toExponential(3) : "");
  // The progress of a lost worker is stale: say what is really happening.
  if (job.worker_lost) stage = "Worker lost, waiting to retry" + (d ? " · last seen: " + d.message : "");
  // After a failed attempt: say why the bar stopped and when it goes on.
  const r = job.retry;
  if (r && r.next_attempt_at) {
    stage = `Attempt ${job.attempts} failed: ${r.last_error} · trying again at ${new Date(r.next_attempt_at).toLocaleTimeString()}`;
  } else if (r) {
    stage = `Attempt ${job.attempts}: ${stage} · the one before failed: ${r.last_error}`;
  }
  $("job-stage").textContent = final ? "" : stage + " (" + job.progress + "%)";
  // A canceled job did what its owner asked: its reason is no error.
  if (job.error) showError(job.error, job.status === "canceled");
  if (!job.result) return;
  if (job.kind === "prediction") renderPrediction(job.result);
  else if (job.kind === "leaderboard") { $("job-source").replaceChildren(el("a", { href: "/models" }, "See the model leaderboard")); $("job-source").hidden = false; }
  // A failed sentiment job's error is shown above already.
  else renderSentiment(job.result, job.status === "failed" ? job.error : "", true);
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
  // Shown first: the chart takes the width of its card.
  $("chart-card").hidden = false;
  chartState.hidden = new Set();
  chartState.bands = bestModel(r, names) || names[0];
  drawChart(r, names);
  // The chart is laid out for its width: a phone turned sideways gets one
  // laid out again, with its text at its size.
  let width = $("chart").clientWidth;
  window.addEventListener("resize", () => requestAnimationFrame(() => {
    if ($("chart").clientWidth !== width) { width = $("chart").clientWidth; drawChart(r, names); }
  }));
  $("models-verdict").textContent = modelsVerdict(r, names);

  const rows = $("models"); rows.replaceChildren();
  for (const n of names) {
    const m = r.models[n], mt = m.metrics;
    const cell = (label, cls, ...content) => el("td", { "data-label": label, class: cls }, ...content);
    const pi = m.forecast_pi95 && m.forecast_pi95.length ? m.forecast_pi95[0] : null;
    rows.append(el("tr", {},
      el("th", { scope: "row", class: "name" }, el("i", { class: "swatch", style: "background:" + (COLORS[n] || "#333") }), n,
        // The fitted specification when the model chose one: "ETS(A,Ad,N)", "ARIMA(0,1,1) with drift".
        ...(m.params && typeof m.params.model === "string" ? [el("br"), el("small", { class: "muted" }, m.params.model)] : []),
        // What it predicts: the next day, or 7 days ahead. Results stored
        // before reports said so have no label.
        ...(m.predicts ? [el("br"), el("span", { class: "muted predicts" }, "predicts " + m.predicts)] : [])),
      cell("RMSE", "num", fmt(mt.rmse, 3)), cell("Persistence RMSE", "num", fmt(m.persistence.rmse, 3)),
      cell("MAE", "num", fmt(mt.mae, 3)), cell("MAPE", "num", fmt(mt.mape) + "%"),
      ...directionCells(mt, cell),
      cell("Against persistence", m.beats_persistence ? "yes" : "no", n === r.baseline ? "(baseline)" : m.verdict || (m.beats_persistence ? "yes" : "no")),
      ...[0.8, 0.95].map((level) => cell(`${fmt(100 * level, 0)}% held`, "num", covered(m.coverage, level))),
      cell("Next (95% interval)", "num", fmt(m.forecast[0]), pi ? el("br") : "", pi ? `${fmt(pi.lower)} – ${fmt(pi.upper)}` : ""),
      cell("Seconds", "num", fmt(m.seconds, 2))));
  }
  bandsNote(r, names);
  for (const [n, msg] of Object.entries(r.model_errors || {})) rows.append(el("tr", {}, el("th", { scope: "row" }, n), el("td", { colspan: 12, class: "error" }, msg)));
  $("models-card").hidden = false;

  if (r.recommendation) {
    const rec = r.recommendation;
    $("rec-action").textContent = rec.action + " · confidence " + fmt(100 * rec.confidence, 0) + "%";
    $("rec-action").className = "badge " + rec.action;
    $("rec-reasons").replaceChildren(...rec.reasons.map((x) => el("li", {}, x)));
    $("rec-disclaimer").textContent = rec.disclaimer;
    $("recommendation-card").hidden = false;
  }
  renderRisk(r);
  if (r.sentiment) renderSentiment(r.sentiment, r.sentiment_error);
  if (r.evaluation || r.evaluation_errors) renderEvaluation(r, names);
}

// EVAL_METRICS are the per-horizon figures the evaluation table can show:
// the label, how to read one horizon's score, and the digits.
const EVAL_METRICS = {
  mase: ["MASE", (h) => h.mase, 2],
  rmse: ["RMSE", (h) => h.rmse, 2],
  mae: ["MAE", (h) => h.mae, 2],
  coverage95: ["95% coverage", (h) => h.coverage95 == null ? null : 100 * h.coverage95, 0],
  winkler95: ["95% Winkler", (h) => h.winkler95, 1],
};

// renderEvaluation shows the rolling-origin evaluation as one small table,
// a row per horizon and a column per model, of the metric the select
// picks: narrow enough for a phone with a few models. A score marked ✓
// beats persistence at that horizon (Diebold–Mariano, p < 0.05).
function renderEvaluation(r, names) {
  const ev = r.evaluation || {};
  const models = names.filter((n) => ev[n]);
  const any = models.length ? ev[models[0]] : null;
  if (any) {
    const p = any.plan;
    $("eval-plan").textContent = `${p.origins} origins ${p.step} trading days apart, ${p.horizon} days ahead from each, ` +
      `${p.refit ? "refitted at every origin" : "ARIMA fitted at the first origin only"}, ${p.window} window.`;
  }
  const draw = () => {
    const [label, get, digits] = EVAL_METRICS[$("eval-metric").value];
    $("eval-head").replaceChildren(el("tr", {}, el("th", { scope: "col", class: "num" }, "h"),
      ...models.map((n) => el("th", { scope: "col", class: "num" }, n))));
    const rows = [];
    for (let k = 0; any && k < any.horizons.length; k++) {
      rows.push(el("tr", {}, el("th", { scope: "row", class: "num" }, String(k + 1)), ...models.map((n) => {
        const h = ev[n].horizons[k];
        const v = get(h);
        return el("td", { class: "num" + (h.beats_persistence ? " yes" : ""), title: h.dm_test ? `${label} · against persistence ${pText(h.dm_test.p_value)}` : label },
          v == null ? "–" : fmt(v, digits) + (label === "95% coverage" ? "%" : "") + (h.beats_persistence ? " ✓" : ""));
      })));
    }
    $("eval-rows").replaceChildren(...rows);
  };
  $("eval-metric").onchange = draw;
  draw();
  $("eval-errors").replaceChildren(...Object.entries(r.evaluation_errors || {}).map(([n, msg]) => el("li", { class: "error" }, `${n}: ${msg}`)));
  $("evaluation-card").hidden = false;
}

// bandsNote says when the intervals and their coverage are GARCH's rather
// than the models' own, and which models kept their own because GARCH
// could not be fitted.
function bandsNote(r, names) {
  const garch = names.filter((n) => r.models[n].params && r.models[n].params.bands);
  const failed = names.filter((n) => r.models[n].params && r.models[n].params.bands_error);
  const parts = [];
  if (garch.length) {
    const b = r.models[garch[0]].params.bands;
    parts.push(`Intervals and coverage of ${garch.join(", ")} are from ${b.model} of the daily returns, fitted walk-forward (refitted every ${b.refit_every} days, updated daily), around each model's own predictions.`);
  }
  if (failed.length) parts.push(`${failed.join(", ")} kept their own intervals: ${r.models[failed[0]].params.bands_error}.`);
  $("bands-note").textContent = parts.join(" ");
  $("bands-note").hidden = !parts.length;
}

// renderRisk shows GARCH's one-day 95% value at risk and the range of the
// close at the horizon, or why there are none.
function renderRisk(r) {
  const k = r.risk;
  if (!k && !r.risk_error) return;
  $("risk-card").hidden = false;
  if (!k) { $("risk-figures").replaceChildren(el("p", { class: "error" }, r.risk_error)); return; }
  const pct = (v) => fmt(100 * v, 2) + "%";
  const row = (label, value) => el("div", {}, el("dt", {}, label), el("dd", {}, value));
  $("risk-figures").replaceChildren(el("dl", { class: "figures" },
    row("One-day 95% value at risk", `${pct(k.var95)} · ${fmt(k.var95_price)} a share`),
    row("Daily volatility", pct(k.daily_volatility)),
    ...[["95%", k.range95], ["80%", k.range80]].map(([level, b]) =>
      row(`Close in ${k.horizon} trading day${k.horizon === 1 ? "" : "s"}, ${level}`, `${fmt(b.lower)} – ${fmt(b.upper)}`))));
  $("risk-model").textContent = `${k.model} on ${k.params.n} daily returns: mu ${k.params.mu.toExponential(2)}, ` +
    `omega ${k.params.omega.toExponential(2)}, alpha1 ${fmt(k.params.alpha1, 3)}, beta1 ${fmt(k.params.beta1, 3)}, shape ${fmt(k.params.shape, 2)}.`;
}

// pText writes a p-value as the API's verdicts do.
const pText = (p) => p < 0.001 ? "p < 0.001" : "p = " + Number(p).toFixed(3);

// directionCells are the direction calls' figures, each in its cell: the
// hit rate, the share of days called, and the test of their skill beyond
// the base rates (Pesaran–Timmermann), which is null when the calls never
// change direction: a constant guess has no skill to test. Results stored
// before calls were counted have only the hit rate.
function directionCells(mt, cell) {
  const counted = mt.directional_call_share !== undefined;
  const skill = !counted ? "–" : !mt.directional_call_share ? "no calls"
    : mt.directional_p_value == null ? "none to test: always the same call" : pText(mt.directional_p_value);
  return [
    cell("Direction right", "num", counted && !mt.directional_call_share ? "–" : fmt(100 * mt.directional_accuracy, 1) + "%"),
    cell("Days called", "num", counted ? fmt(100 * mt.directional_call_share, 0) + "%" : "–"),
    cell("Direction skill", "", skill),
  ];
}

// covered is how often the interval at level held the actual close on
// the test days, or a dash without one.
function covered(cs, level) {
  const c = (cs || []).find((x) => Math.abs(x.level - level) < 1e-9);
  return c ? fmt(100 * c.covered, 0) + "%" : "–";
}

// bestModel is the most accurate model (lowest RMSE) of those that beat
// persistence significantly, or none.
function bestModel(r, names) {
  const good = names.filter((n) => n !== r.baseline && r.models[n].beats_persistence);
  good.sort((a, b) => r.models[a].metrics.rmse - r.models[b].metrics.rmse);
  return good[0];
}

// modelsVerdict says in one line what the table below finds.
function modelsVerdict(r, names) {
  const best = bestModel(r, names);
  if (!best) return `No model beat "tomorrow = today" on the test days: its forecasts are no better than the last close.`;
  const m = r.models[best], h = m.forecast.length;
  return `${best} did best, and beat "tomorrow = today" on the test days; it expects ${fmt(m.forecast[h - 1])} in ${h} trading day${h === 1 ? "" : "s"}.`;
}

// renderSentiment shows a sentiment result; err is why its chain failed,
// and errShown says it is on the page already.
function renderSentiment(s, err, errShown) {
  // A failed chain, or one that found nothing to score, has no polarity to
  // show, only its sources' statuses: unavailable, never a neutral 0.
  const unavailable = Boolean(err) || s.polarity === null;
  $("sent-label").textContent = unavailable ? "unavailable" : s.label + " " + fmt(s.polarity, 3);
  $("sent-label").className = "badge " + (unavailable ? "error" : s.label);
  const articles = s.articles || [], sources = s.sources || [];
  $("sent-summary").textContent = err ? (errShown ? "" : err)
    : unavailable ? "No source gave an article to score."
    : `${s.positive} positive, ${s.negative} negative, ${s.neutral} neutral of ${articles.length} articles.`;
  $("sent-summary").hidden = !$("sent-summary").textContent;
  $("articles").replaceChildren(...articles.map((a) => el("tr", {},
    el("td", {}, fmt(a.score, 3)),
    el("td", {}, a.url && /^https?:\/\//.test(a.url) ? el("a", { href: a.url, rel: "noopener noreferrer", target: "_blank" }, a.title) : a.title),
    el("td", {}, a.source))));
  $("articles-table").hidden = articles.length === 0;
  $("sources").replaceChildren(...sources.map((x) => el("tr", {},
    el("td", {}, x.source), el("td", {}, el("span", { class: "badge " + x.status }, x.status + (x.cached ? " (cached)" : ""))),
    el("td", {}, x.articles), el("td", { class: "muted" }, x.reason || ""))));
  $("sources-table").hidden = sources.length === 0;
  $("sentiment-card").hidden = false;
}

// niceTicks returns round values, a step of 1, 2 or 5 × 10^k apart, from
// at or below lo to at or above hi, about n steps, and the decimal places
// their labels need.
function niceTicks(lo, hi, n) {
  if (!(hi > lo)) { const pad = Math.max(Math.abs(lo) * 0.05, 1); lo -= pad; hi += pad; }
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw);
  const places = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks = [];
  // Counting steps, not adding them up, keeps float error out of the labels.
  for (let k = Math.floor(lo / step); ; k++) {
    ticks.push(k * step);
    if (k * step >= hi - step * 1e-9) return { ticks, places };
  }
}

// INTERVALS are the prediction intervals a model may report, widest first,
// with the opacity of their band: overlapping, the narrower reads darker.
const INTERVALS = ["pi95", "pi80"];
const BAND_OPACITY = { pi95: 0.08, pi80: 0.14 };

// chartValues is every value the prediction chart plots, which its Y axis
// must span: the closes, each model's test-day predictions and forecast,
// and the bounds of the prediction-interval bands drawn on both.
function chartValues(r, names) {
  const ys = [...r.series.closes];
  const bounds = (b) => { if (b) ys.push(b.lower, b.upper); };
  for (const n of names) {
    const m = r.models[n];
    ys.push(...m.forecast);
    for (const level of INTERVALS) (m["forecast_" + level] || []).forEach(bounds);
    for (const t of m.test) {
      if (t.index < r.series.offset) continue;
      ys.push(t.predicted);
      for (const level of INTERVALS) bounds(t[level]);
    }
  }
  return ys;
}

// chartFrame lays out the prediction chart at the width of its card, so
// that its text keeps its size on a phone: the scales, the dates, and
// where the history ends and the forecast begins. The forecast gets at
// least a fifth of the width, so its few days read beside the history.
function chartFrame(r, names, width) {
  const W = Math.max(320, Math.round(width || 1000)), narrow = W < 640;
  const f = { W, narrow, H: narrow ? 300 : 380, L: narrow ? 58 : 70, R: 12, T: 14, B: 48 };
  const s = r.series;
  f.nHist = s.closes.length; f.horizon = r.forecast_dates.length;
  f.dates = [...s.dates, ...r.forecast_dates];
  const plotW = f.W - f.L - f.R;
  const fcW = f.horizon ? Math.max(plotW * f.horizon / (f.nHist - 1 + f.horizon), plotW * 0.2) : 0;
  f.split = f.L + plotW - fcW;
  f.x = (i) => i <= f.nHist - 1
    ? f.L + (f.split - f.L) * i / Math.max(1, f.nHist - 1)
    : f.split + fcW * (i - (f.nHist - 1)) / f.horizon;
  const ys = chartValues(r, names);
  const { ticks, places } = niceTicks(Math.min(...ys), Math.max(...ys), narrow ? 4 : 6);
  f.ticks = ticks; f.places = places;
  const lo = ticks[0], hi = ticks[ticks.length - 1];
  f.y = (v) => f.T + (f.H - f.T - f.B) * (1 - (v - lo) / (hi - lo));
  return f;
}

// drawChart draws the closes over the whole test window, each model's
// test-day predictions, and the forecast in the shaded horizon, as an SVG
// line chart, with each model's 80% and 95% prediction intervals shaded in
// its colour: on the test days, where the closes show how often they held,
// and over the forecast. It draws in layers, back to front: the horizon's
// shade, the grid and axes, the interval bands, then lines, then the points
// with their tooltips.
function drawChart(r, names) {
  const NS = "http://www.w3.org/2000/svg";
  const f = chartFrame(r, names, $("chart").clientWidth);
  const s = r.series, n0 = s.offset, last = f.nHist - 1;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${f.W} ${f.H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Closing prices with each model's test-day predictions and forecast");
  const add = (parent, tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    parent.append(e);
    return e;
  };
  const bottom = f.H - f.B;

  // The horizon.
  if (f.horizon) {
    add(svg, "rect", { x: f.split, y: f.T, width: f.W - f.R - f.split, height: bottom - f.T, class: "horizon" });
    add(svg, "text", { x: (f.split + f.W - f.R) / 2, y: f.T + 14, "text-anchor": "middle", class: "horizon-label" },
      f.narrow ? "forecast" : `forecast: ${f.horizon} trading day${f.horizon === 1 ? "" : "s"}`);
  }
  // The grid, the axes and their titles.
  for (const v of f.ticks) {
    add(svg, "line", { x1: f.L, x2: f.W - f.R, y1: f.y(v), y2: f.y(v), class: "gridline" });
    add(svg, "text", { x: f.L - 6, y: f.y(v) + 4, "text-anchor": "end" }, v.toFixed(f.places));
  }
  // Date labels at even steps and at the forecast's end, leaving out any
  // that would run into the one before or the last.
  const xCount = f.narrow ? 2 : 4, labelW = f.narrow ? 110 : 84;
  const wanted = [...Array(xCount + 1).keys()].map((k) => Math.round(last * k / xCount));
  const end = last + f.horizon, xAt = [0];
  for (const i of wanted.slice(1)) {
    if (f.x(i) - f.x(xAt[xAt.length - 1]) >= labelW && (i === end || f.x(end) - f.x(i) >= labelW)) xAt.push(i);
  }
  if (xAt[xAt.length - 1] !== end) xAt.push(end);
  for (const [k, i] of xAt.entries()) {
    const anchor = k === 0 ? "start" : k === xAt.length - 1 ? "end" : "middle";
    add(svg, "line", { x1: f.x(i), x2: f.x(i), y1: bottom, y2: bottom + 4, class: "axis" });
    add(svg, "text", { x: f.x(i), y: bottom + 17, "text-anchor": anchor }, f.dates[i]);
  }
  add(svg, "line", { x1: f.L, x2: f.W - f.R, y1: bottom, y2: bottom, class: "axis" });
  add(svg, "text", { x: f.L + (f.W - f.R - f.L) / 2, y: f.H - 6, "text-anchor": "middle", class: "axis-title" }, "Trading day");
  add(svg, "text", { x: 0, y: 0, transform: `translate(14 ${f.T + (bottom - f.T) / 2}) rotate(-90)`, "text-anchor": "middle", class: "axis-title" },
    "Close price");

  // The interval bands, then the lines over them.
  const bands = add(svg, "g", {}), lines = add(svg, "g", {}), points = add(svg, "g", {});
  const path = (pts, color, width, dash) => {
    if (pts.length < 2) return;
    add(lines, "path", { d: pts.map(([i, v], k) => (k ? "L" : "M") + f.x(i).toFixed(1) + " " + f.y(v).toFixed(1)).join(""),
      fill: "none", stroke: color, "stroke-width": width, "stroke-dasharray": dash || "", "stroke-linejoin": "round" });
  };
  const point = (i, v, color, radius, title) => {
    const c = add(points, "circle", { cx: f.x(i).toFixed(1), cy: f.y(v).toFixed(1), r: radius, fill: color });
    add(c, "title", {}, title);
  };
  // band shades the area between lower and upper bounds given as
  // [i, {lower, upper}] pairs; a run without bounds breaks it into pieces.
  const band = (pts, color, opacity) => {
    const runs = [[]];
    for (const [i, b] of pts) { if (b) runs[runs.length - 1].push([i, b]); else if (runs[runs.length - 1].length) runs.push([]); }
    for (const run of runs) {
      if (run.length < 2) continue;
      const up = run.map(([i, b]) => f.x(i).toFixed(1) + " " + f.y(b.upper).toFixed(1));
      const down = run.slice().reverse().map(([i, b]) => f.x(i).toFixed(1) + " " + f.y(b.lower).toFixed(1));
      add(bands, "path", { d: "M" + up.join("L") + "L" + down.join("L") + "Z", fill: color, "fill-opacity": opacity, stroke: "none" });
    }
  };
  // Bands only for the model chosen in the legend: six overlapping ones
  // would be mud.
  const shown = names.filter((n) => !chartState.hidden.has(n));
  let shaded = false;
  for (const n of shown.filter((x) => x === chartState.bands)) {
    const m = r.models[n], c = COLORS[n] || "#333";
    const test = m.test.filter((t) => t.index >= n0);
    // The forecast bands start from the last close, which is known exactly.
    const known = { lower: s.closes[last], upper: s.closes[last] };
    for (const level of INTERVALS) {
      band(test.map((t) => [t.index - n0, t[level]]), c, BAND_OPACITY[level]);
      const fc = m["forecast_" + level] || [];
      if (fc.length) band([[last, known], ...fc.map((b, k) => [last + 1 + k, b])], c, BAND_OPACITY[level]);
      shaded = shaded || fc.length > 0 || test.some((t) => t[level]);
    }
  }
  path(s.closes.map((v, i) => [i, v]), "#1d2330", 2);
  s.closes.forEach((v, i) => point(i, v, "#1d2330", 1.6, `${s.dates[i]}: close ${fmt(v)}`));
  for (const n of shown) {
    const m = r.models[n], c = COLORS[n] || "#333";
    const test = m.test.filter((t) => t.index >= n0);
    path(test.map((t) => [t.index - n0, t.predicted]), c, 1.3);
    test.forEach((t) => point(t.index - n0, t.predicted, c, 1.6, `${n}, ${s.dates[t.index - n0]}: predicted ${fmt(t.predicted)}`));
    path([[last, s.closes[last]], ...m.forecast.map((v, k) => [last + 1 + k, v])], c, 2, "5 4");
    const pi95 = m.forecast_pi95 || [];
    m.forecast.forEach((v, k) => point(last + 1 + k, v, c, 3, `${n}, ${r.forecast_dates[k]}: forecast ${fmt(v)}` +
      (pi95[k] ? ` (95%: ${fmt(pi95[k].lower)} – ${fmt(pi95[k].upper)})` : "")));
  }
  chartLegend(r, names, f.horizon, shaded);
  $("chart").replaceChildren(svg);
}

// chartState is what the reader chose in the legend: the models hidden,
// and the one whose prediction intervals are shaded.
const chartState = { hidden: new Set(), bands: "" };

// chartLegend shows each model's colour as a button that hides or shows
// its lines, and a choice of whose intervals to shade; either redraws.
function chartLegend(r, names, horizon, shaded) {
  const legend = $("legend");
  legend.replaceChildren(el("span", {}, el("i", { style: "background:#1d2330" }), "close"));
  for (const n of names) {
    const on = !chartState.hidden.has(n);
    const button = el("button", { type: "button", class: "toggle", "aria-pressed": String(on), title: (on ? "Hide " : "Show ") + n },
      el("i", { style: "background:" + (COLORS[n] || "#333") }), n);
    button.addEventListener("click", () => {
      if (on) chartState.hidden.add(n); else chartState.hidden.delete(n);
      drawChart(r, names);
    });
    legend.append(button);
  }
  const withBands = names.filter((n) => (r.models[n].forecast_pi95 || []).length || r.models[n].test.some((t) => t.pi95));
  if (withBands.length) {
    const select = el("select", { "aria-label": "Prediction intervals of" },
      el("option", { value: "" }, "none"), ...withBands.map((n) => el("option", { value: n }, n)));
    select.value = chartState.bands;
    select.addEventListener("change", () => { chartState.bands = select.value; drawChart(r, names); });
    legend.append(el("label", {}, "Bands: ", select));
  }
  legend.append(el("span", {}, "dashed: forecast · blue background: the next " + horizon + " trading days" +
    (shaded ? ` · bands: ${chartState.bands}'s 80% (darker) and 95% prediction intervals` : "") + " · hover a point for its value"));
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
    el("td", {}, el("i", { class: "swatch", style: "background:" + (COLORS[m.model] || "#333") }), m.model),
    el("td", { class: m.beats_persistence > 0 ? "yes" : "no" }, `${m.beats_persistence} of ${m.series}` + (m.failed ? ` (${m.failed} failed)` : "")),
    el("td", {}, m.median_p_value === null ? "–" : fmt(m.median_p_value, 3)),
    el("td", {}, m.median_skill === null ? "–" : (m.median_skill >= 0 ? "+" : "") + fmt(100 * m.median_skill, 2) + "%"),
    el("td", {}, pctOrDash(m.mean_hit_rate)),
    el("td", {}, pctOrDash(m.mean_coverage_80)),
    el("td", {}, pctOrDash(m.mean_coverage_95)),
    el("td", {}, fmt(m.seconds, 1)))));
  $("models-table").hidden = false;
  rollingOrigin(lb.models.filter((m) => m.rolling_origin && m.rolling_origin.length));
}

// rollingOrigin fills the models page's table of error by horizon: a row
// per horizon, a column per model scored by rolling origin.
function rollingOrigin(models) {
  if (!models.length) return;
  const plan = models[0].rolling_origin_plan;
  $("rolling-plan").textContent = `${plan.origins} forecast origins ${plan.step} trading days apart on each stock, each model refitted at every origin, scored ${plan.horizon} days ahead.`;
  const table = $("rolling-table");
  table.tHead.replaceChildren(el("tr", {}, el("th", { scope: "col" }, "Days ahead"),
    ...models.map((m) => el("th", { scope: "col" }, m.model))));
  const rows = [];
  for (let i = 0; i < models[0].rolling_origin.length; i++) {
    rows.push(el("tr", {}, el("td", {}, String(i + 1)), ...models.map((m) => {
      const h = m.rolling_origin[i];
      return el("td", { class: "num" }, (h.median_mase === null ? "–" : fmt(h.median_mase, 3)) + ` (${h.beats_persistence})`);
    })));
  }
  table.tBodies[0].replaceChildren(...rows);
  $("rolling-card").hidden = false;
}

// Passkeys: the server's options go to navigator.credentials in the
// browser's own JSON form (parseCreationOptionsFromJSON, toJSON), and the
// credential comes back the same way; the server checks everything.
function passkeyFailed(err) {
  const box = $("passkey-error");
  box.textContent = err.name === "NotAllowedError" ? "The passkey was not used (cancelled or timed out)." : err.message;
  box.hidden = false;
}

async function passkeyPost(path, body) {
  const res = await fetch(path, { method: "POST", headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
  return data;
}

function passkeys() {
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) return;
  const register = $("passkey-register");
  if (register) {
    register.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const opts = await passkeyPost("/account/two-factor/passkeys/begin");
        const cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(opts.publicKey) });
        const name = register.elements.name.value;
        await passkeyPost("/account/two-factor/passkeys/finish?name=" + encodeURIComponent(name), cred.toJSON());
        location.reload();
      } catch (err) { passkeyFailed(err); }
    });
  }
  const signin = $("passkey-signin");
  if (signin) {
    signin.hidden = false;
    signin.addEventListener("click", async () => {
      try {
        const opts = await passkeyPost("/login/passkey/begin");
        const cred = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(opts.publicKey) });
        const done = await passkeyPost("/login/passkey/finish?next=" + encodeURIComponent(signin.dataset.next || "/"), cred.toJSON());
        location.href = done.next;
      } catch (err) { passkeyFailed(err); }
    });
  }
}

// ---------- dashboard ----------

// MONEY writes an amount from the API (a decimal string) as the server's
// pages do: "$1,000,000.00".
const MONEY = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const money = (amount) => MONEY.format(Number(amount));

// dashboardPage previews the order form's order before it is placed: the
// server prices it (POST /api/v1/portfolio/orders/preview) by the rule the
// order follows, so the preview cannot drift from the trade. A sell is
// previewed only for a company held.
function dashboardPage() {
  const form = document.querySelector('form[action="/dashboard/orders"]');
  const out = $("order-preview");
  if (!form || !out) return;
  let asked = 0;
  const update = async () => {
    const f = new FormData(form), n = ++asked;
    const quantity = String(f.get("quantity") || "").trim();
    if (!quantity) { out.hidden = true; return; }
    const held = [...document.querySelectorAll('#holdings td[data-label="Symbol"]')].some((td) => td.textContent.trim() === f.get("symbol"));
    const body = (side) => {
      const b = { symbol: f.get("symbol"), side, quantity };
      if (f.get("broker")) b.broker_id = Number(f.get("broker"));
      return b;
    };
    const lines = await Promise.all((held ? ["buy", "sell"] : ["buy"]).map((side) =>
      api("POST", "/api/v1/portfolio/orders/preview", body(side)).then((p) => {
        const after = p.wallet_after.startsWith("-") ? `the wallet is ${money(p.wallet_after.slice(1))} short` : `wallet after ${money(p.wallet_after)}`;
        return `${side === "buy" ? "Buy" : "Sell"} ${p.quantity} × ${p.quote.price} through ${p.broker.name}: total ${money(p.total)}, commission ${money(p.commission)}, ${after}.`;
      }, (e) => e.message)));
    if (n !== asked) return; // a later change is being previewed
    out.replaceChildren(...lines.map((line) => el("p", {}, line)));
    out.dataset.quantity = quantity;
    out.hidden = false;
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}

// ---------- every page ----------

// A form with data-confirm="…" asks before it is sent: deleting,
// deactivating, pausing and canceling are not undone by a second click.
// It listens on the document in the capture phase, so it runs before a
// form's own handler (the job page's Cancel goes through the API), and a
// "no" stops both.
function confirmForms() {
  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) { ev.preventDefault(); ev.stopPropagation(); }
  }, true);
}

// headerMenu folds the header's links behind a Menu button on a phone.
// The "js" class on <html> tells the style sheet a script will unfold
// them: without scripts they stay in view.
function headerMenu() {
  document.documentElement.classList.add("js");
  const button = $("menu-toggle");
  if (!button) return;
  button.addEventListener("click", () => {
    const open = button.closest("header").classList.toggle("open");
    button.setAttribute("aria-expanded", String(open));
  });
}

// copyButtons copy the text of the element named by data-copy, and say so.
function copyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = $(button.dataset.copy).textContent.trim();
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch (e) {
        // Without the clipboard (permission refused), select it for the
        // user to copy.
        getSelection().selectAllChildren($(button.dataset.copy));
        button.textContent = "Selected: press Ctrl+C";
      }
      button.dataset.done = "";
    });
  }
}

// zoneTime writes a time on the user's clock (the zone set on /account,
// else the browser's), with its zone's name. (dateStyle cannot be given
// with timeZoneName: the fields are named.)
function zoneTime() {
  const options = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  const zone = document.body.dataset.timeZone;
  try {
    return new Intl.DateTimeFormat(undefined, zone ? { ...options, timeZone: zone } : options);
  } catch {
    return new Intl.DateTimeFormat(undefined, options); // a zone this browser does not know
  }
}

// localTimes shows each server-rendered <time datetime="…Z"> on the
// user's clock, with the UTC time the server wrote on hover. A time with a
// title of its own is on a clock the page chose (a schedule's zone) and is
// left alone. The time zone field of /account is offered every zone the
// browser knows.
function localTimes() {
  const format = zoneTime();
  for (const t of document.querySelectorAll("time[datetime]:not([title])")) {
    const d = new Date(t.getAttribute("datetime"));
    if (Number.isNaN(d.getTime())) continue;
    t.title = d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    t.textContent = format.format(d);
  }
  const zones = $("time-zones");
  if (zones && Intl.supportedValuesOf) {
    zones.replaceChildren(...Intl.supportedValuesOf("timeZone").map((z) => el("option", { value: z })));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  confirmForms();
  headerMenu();
  copyButtons();
  localTimes();
  const page = document.body.dataset.page;
  passkeys();
  if (page === "index") indexPage();
  if (page === "job") jobPage(document.body.dataset.jobId);
  if (page === "models") modelsPage();
  if (page === "watchlists") watchlistsPage();
  if (page === "dashboard") dashboardPage();
});
