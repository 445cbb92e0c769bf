package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/augurhq/augur/internal/store"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// viewport is a browser window size to walk the product at.
type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

// browserTimeout bounds one walk through the product. It only keeps a
// broken build from hanging CI: every step waits on the page, not a clock.
const browserTimeout = 3 * time.Minute

// browserPassword is strong and not in the common-password list.
const browserPassword = "quartz-Lantern-harbour-57"

// TestBrowserWalkthrough walks the product as a person would, in headless
// Chromium (Debian's chromium package), against the whole stack of
// newStack: register, sign out and in, predict MSFT, watch the job finish,
// find its chart, then deposit, buy and sell and check the portfolio's
// figures. It does so at a desktop width and at a phone's.
//
// It is a normal Go test, so `make test` runs it. Without chromium it is
// skipped, except in CI, where .ci/run installs chromium and its absence is
// a failure.
//
// Screenshots go to t.ArtifactDir(): a temporary directory removed after
// the test, or kept under -outputdir with `go test -artifacts`:
//
//	go test -run Browser -artifacts -outputdir /tmp/shots ./internal/app
func TestBrowserWalkthrough(t *testing.T) {
	chromium := findChromium(t)
	s := newStack(t)
	s.startWorker()
	env := &runtimeEnv{cfg: s.cfg, logger: s.logger, stdout: &bytes.Buffer{}}
	require.NoError(t, seedDemoMarket(context.Background(), env, s.db))

	for _, vp := range []viewport{
		{name: "desktop", width: 1280, height: 900},
		{name: "phone", width: 360, height: 780, mobile: true},
	} {
		t.Run(vp.name, func(t *testing.T) {
			b := newBrowser(t, chromium, vp)
			b.promote = func(username string) {
				_, err := s.db.SetUserRole(context.Background(), username, "admin")
				require.NoError(t, err)
			}
			b.walk(s.url)
		})
	}
}

// browserViewports are the widths the browser tests walk at: a desktop's
// and a phone's.
var browserViewports = []viewport{
	{name: "desktop", width: 1280, height: 900},
	{name: "phone", width: 390, height: 844, mobile: true},
}

// findChromium returns the path of Chromium, or skips the test without it
// (fails it when CI is set, since CI installs it).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is required in CI (.ci/run installs Debian's chromium package)")
	}
	t.Skip("chromium not installed: apt-get install chromium to run the browser test")
	return ""
}

// browser is one Chromium with a fresh profile, driven through chromedp,
// with what the pages did wrong along the way: uncaught script exceptions
// and responses of 400 and above.
type browser struct {
	t    *testing.T
	ctx  context.Context
	vp   viewport
	shot int

	// promote makes a user an administrator, as `augur admin` would.
	promote func(username string)

	mu       sync.Mutex
	problems []string
	// confirm is how the next confirmation dialogs are answered, and
	// dialogs what they asked.
	confirm bool
	dialogs []string
}

// newBrowser starts Chromium at the viewport's size with a profile of its
// own; it stops with the test.
func newBrowser(t *testing.T, chromium string, vp viewport) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs the tests as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(vp.width), int(vp.height)),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelBrowser)
	b := &browser{t: t, vp: vp}
	// The first call starts the browser; the deadline comes after, since a
	// deadline on that call would bound the browser's whole life.
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.problem("script exception: %s", (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
		case *page.EventJavascriptDialogOpening:
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			accept := b.confirm
			b.mu.Unlock()
			// The page waits for the answer, so it cannot be given from
			// inside this listener.
			go func() {
				if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept}); err != nil {
					b.problem("answer the dialog %q: %v", ev.Message, err)
				}
			}()
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				b.problem("%d from %s", ev.Response.Status, ev.Response.URL)
			}
		}
	}), "start chromium")
	_, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{})
	require.NoError(t, err)
	emulate := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
	if vp.mobile {
		emulate = append(emulate, chromedp.EmulateMobile)
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height, emulate...)))
	ctx, cancel := context.WithTimeout(ctx, browserTimeout)
	t.Cleanup(cancel)
	b.ctx = ctx
	return b
}

func (b *browser) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

// expectProblem checks that the page just saw the problem, which a step
// provoked on purpose (a refused form is a 422), and forgets it.
func (b *browser) expectProblem(format string, args ...any) {
	b.t.Helper()
	want := fmt.Sprintf(format, args...)
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.Index(b.problems, want)
	require.GreaterOrEqual(b.t, i, 0, "expected %q among %q", want, b.problems)
	b.problems = slices.Delete(b.problems, i, i+1)
}

// do runs chromedp steps, failing the test with what was being done.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, steps...), "%s at %s", what, b.vp.name)
}

// result runs one chromedp action and returns its value.
func result[T any](b *browser, what string, action chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, action)
	require.NoError(b.t, err, "%s at %s", what, b.vp.name)
	return v
}

// text is the text of the first element matching the CSS selector sel,
// as shown (innerText), read at once: a step that needs to wait for an
// element waits for it first.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s := eval[*string](b, "read "+sel, fmt.Sprintf(`document.querySelector(%q)?.innerText ?? null`, sel))
	require.NotNil(b.t, s, "no %s on the page at %s", sel, b.vp.name)
	return strings.TrimSpace(*s)
}

// eval evaluates a script in the page, awaiting it when it is a promise.
func eval[T any](b *browser, what, script string) T {
	b.t.Helper()
	return result(b, what, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
}

// open loads target and waits until the page named name is shown.
func (b *browser) open(base, target, name string) {
	b.t.Helper()
	b.do("open "+target, chromedp.Navigate(base+target), waitPage(name))
}

// waitPage waits for the page whose body says data-page=name: the page a
// click or a redirect leads to.
func waitPage(name string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`body[data-page="` + name + `"]`))
}

// fill types value into the form field sel, replacing what it held.
// (chromedp's SetValue cannot set the empty string: it takes the falsy
// result for a failure.)
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	empty := chromedp.Evaluate[bool](fmt.Sprintf(`((e) => { e.value = ""; return true; })(document.querySelector(%q))`, sel))
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			_, err := empty(ctx, t)
			return chromedp.Void{}, err
		},
		chromedp.SendKeys(chromedp.CSS(sel), value),
	)
}

// click clicks the first element matching the CSS selector sel.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}

// follow clicks the first element matching sel and waits until the page
// it leads to has loaded: after a form's redirect to the same page, the
// old page would answer every other wait.
func follow(sel string) chromedp.Action[chromedp.Void] {
	loaded := chromedp.WaitEvent(page.LoadEventFired, nil, click(sel))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := loaded(ctx, t)
		return chromedp.Void{}, err
	}
}

// screenshot saves the whole page as a PNG under the test's artifact
// directory and logs where.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png := result(b, "screenshot "+name, chromedp.FullScreenshot(100))
	b.shot++
	file := filepath.Join(b.t.ArtifactDir(), fmt.Sprintf("%s-%d-%s.png", b.vp.name, b.shot, name))
	require.NoError(b.t, os.WriteFile(file, png, 0o644))
	b.t.Logf("screenshot %s", file)
}

// fitsTheWidth checks that the page does not scroll sideways past the
// window's width: whatever is wide (tables, the chart) scrolls or shrinks
// inside its card. (A phone would zoom out to show such a page, so the
// window's own measures cannot tell; the viewport's width can.)
func (b *browser) fitsTheWidth(what string) {
	b.t.Helper()
	width := eval[int64](b, "measure "+what, `document.documentElement.scrollWidth`)
	require.LessOrEqual(b.t, width, b.vp.width, "%s scrolls sideways at %s", what, b.vp.name)
}

// nav follows the header's link to target: on a phone, through the Menu
// button that folds the links.
func (b *browser) nav(target, name string) {
	b.t.Helper()
	link := `nav a[href="` + target + `"]`
	b.openMenu()
	b.do("follow "+target, follow(link), waitPage(name))
}

// openMenu unfolds the header's links on a phone; on a desktop they are
// in view.
func (b *browser) openMenu() {
	b.t.Helper()
	folded := eval[bool](b, "look for the menu", `getComputedStyle(document.getElementById("menu-toggle")).display !== "none"`)
	require.Equal(b.t, b.vp.mobile, folded, "the header folds its links behind Menu on a phone, and only there")
	if folded {
		b.do("open the menu", click(`#menu-toggle`), chromedp.WaitVisible(chromedp.CSS(`nav.account`)))
	}
}

// fitsThePhone checks, on a phone, what fitsTheWidth does, and that no
// table hides a column behind a sideways scroll: its rows are cards. It
// also checks that the header is one row.
func (b *browser) fitsThePhone(what string) {
	b.t.Helper()
	b.fitsTheWidth(what)
	if !b.vp.mobile {
		return
	}
	hidden := eval[[]string](b, "measure the tables of "+what, `[...document.querySelectorAll(".scroll")]
	  .filter((s) => s.offsetParent !== null && s.scrollWidth > s.clientWidth + 1)
	  .map((s) => (s.querySelector("table")?.className || "a box") + " is " + s.scrollWidth + " wide in " + s.clientWidth)`)
	require.Empty(b.t, hidden, "%s hides columns behind a sideways scroll at %s", what, b.vp.name)
	header := eval[float64](b, "measure the header", `document.querySelector("header.top").getBoundingClientRect().height`)
	require.Less(b.t, header, 64.0, "the header of %s takes more than one row at %s", what, b.vp.name)
}

// chartTextSize is the size, in CSS pixels as shown, of the smallest text
// in the SVG charts matching sel: an SVG scales its text with its
// viewBox.
func (b *browser) chartTextSize(sel string) float64 {
	b.t.Helper()
	return eval[float64](b, "measure the text of "+sel, `Math.min(...[...document.querySelectorAll(`+fmt.Sprintf("%q", sel)+`)].flatMap((svg) => {
	  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
	  return [...svg.querySelectorAll("text")].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
	}))`)
}

// destructiveAsk checks that every button on the page that deletes,
// deactivates, pauses, cancels or revokes is in a form that asks first.
func (b *browser) destructiveAsk(what string) {
	b.t.Helper()
	unasked := eval[[]string](b, "find the destructive buttons of "+what, `[...document.querySelectorAll("form button")]
	  .filter((x) => /^(Delete|Deactivate|Pause|Cancel|Revoke)/.test(x.textContent.trim()) && !x.form.dataset.confirm)
	  .map((x) => x.textContent.trim())`)
	require.Empty(b.t, unasked, "buttons of %s that do not ask first", what)
}

// submitAnswering submits the form sel as its button would, answering its
// confirmation with accept, and returns what the dialog asked. A refused
// form stays on its page; an accepted one is followed to the page it
// leads to.
func (b *browser) submitAnswering(sel string, accept bool) string {
	b.t.Helper()
	b.mu.Lock()
	b.confirm, b.dialogs = accept, nil
	b.mu.Unlock()
	if accept {
		b.do("submit "+sel, follow(sel+` button[type="submit"]`))
	} else {
		// requestSubmit returns once the dialog is answered.
		eval[bool](b, "submit "+sel, `(document.querySelector(`+fmt.Sprintf("%q", sel)+`).requestSubmit(), true)`)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Len(b.t, b.dialogs, 1, "submitting %s asks once", sel)
	return b.dialogs[0]
}

// register creates an account through /register, which signs in at once.
func (b *browser) register(base, user, email string) {
	b.t.Helper()
	b.open(base, "/register", "register")
	b.do("register",
		fill(`input[name="email"]`, email),
		fill(`input[name="username"]`, user),
		fill(`input[name="password"]`, browserPassword),
		fill(`input[name="confirm"]`, browserPassword),
		follow(`form[action="/register"] button[type="submit"]`),
		waitPage("index"),
	)
}

// walk is one person's visit, from registration to the portfolio.
func (b *browser) walk(base string) {
	t := b.t
	user := "walker" + b.vp.name
	email := user + "@example.com"

	b.register(base, user, email)
	require.Equal(t, "Welcome to Augur, "+user+".", b.text(".flash"))
	require.Equal(t, user, b.text(`nav a[href="/account"]`))

	// Sign out, then in again.
	b.openMenu()
	b.do("sign out",
		follow(`form[action="/logout"] button`),
		waitPage("login"),
	)
	require.Equal(t, "You have signed out.", b.text(".flash"))
	b.do("sign in",
		fill(`input[name="email"]`, email),
		fill(`input[name="password"]`, browserPassword),
		follow(`form[action="/login"] button[type="submit"]`),
		waitPage("index"),
	)
	require.Equal(t, user, b.text(`nav a[href="/account"]`))
	b.fitsThePhone("the prediction form")
	b.screenshot("predict")

	// Predict MSFT with the two quick models: linreg and ARIMA are
	// checked, the LSTM is too slow for a test.
	// With a rolling-origin evaluation of 10 origins, from the Advanced
	// options.
	b.do("choose the models",
		fill(`#predict-form input[name="ticker"]`, "MSFT"),
		click(`#predict-form input[name="models"][value="lstm"]`),
		click(`#predict-form details summary`),
		fill(`#predict-form input[name="evaluation_origins"]`, "10"),
	)
	models := eval[[]string](b, "read the chosen models", `[...document.querySelectorAll('#predict-form input[name="models"]:checked')].map((e) => e.value)`)
	require.Equal(t, []string{"linreg", "arima"}, models)
	b.do("predict",
		follow(`#predict-form button[type="submit"]`),
		waitPage("job"),
	)
	location := result(b, "read the job's address", chromedp.Location())
	require.Regexp(t, `^`+regexp.QuoteMeta(base)+`/jobs/[0-9a-f-]{36}$`, location)

	// Watch it finish: the status badge takes the final status as its
	// class.
	b.do("wait for the job to finish", chromedp.WaitVisible(
		chromedp.CSS(`#job-status.succeeded, #job-status.failed, #job-status.canceled`)))
	jobError := eval[string](b, "read the job's error", `document.getElementById("job-error").textContent`)
	require.Equal(t, "succeeded", b.text("#job-status"), "error: %s", jobError)
	// A job that finished before the page was served (it took an identical
	// job's result) comes with its final badge already, so the badge does
	// not say the script has drawn the result yet: the price source line,
	// shown when it has, does.
	b.do("wait for the result", chromedp.WaitVisible(chromedp.CSS(`#job-source`)))
	require.Equal(t, "Prediction · MSFT", b.text("#job-title"))
	require.Contains(t, b.text("#job-source"), "bundled sample prices")
	require.True(t, eval[bool](b, "read the progress bar", `document.getElementById("job-progress").hidden`), "a final job has no progress bar")

	// The chart: an SVG with the closes and each model's test-day line.
	b.do("find the chart", chromedp.WaitVisible(chromedp.CSS(`#chart svg`)))
	chart := eval[struct {
		Label      string         `json:"label"`
		TestLines  map[string]int `json:"testLines"`
		Tooltips   map[string]int `json:"tooltips"`
		AxisTitles []string       `json:"axisTitles"`
		Legend     string         `json:"legend"`
	}](b, "read the chart", `(() => {
	  const svg = document.querySelector("#chart svg");
	  const colors = {linreg: "#E69F00", arima: "#009E73", naive: "#868e96"};
	  const testLines = {}, tooltips = {};
	  const titles = [...svg.querySelectorAll("circle > title")].map((t) => t.textContent);
	  for (const [name, color] of Object.entries(colors)) {
	    // A test-day line is solid (the forecast is dashed); count its points.
	    const line = [...svg.querySelectorAll('path[stroke="' + color + '"]')].find((p) => !p.getAttribute("stroke-dasharray"));
	    testLines[name] = line ? line.getAttribute("d").split("L").length : 0;
	    tooltips[name] = titles.filter((t) => t.startsWith(name + ", ") && t.includes(": predicted ")).length;
	  }
	  return {label: svg.getAttribute("aria-label"), testLines, tooltips,
	    axisTitles: [...svg.querySelectorAll(".axis-title")].map((t) => t.textContent),
	    legend: document.getElementById("legend").textContent};
	})()`)
	require.Contains(t, chart.Label, "test-day predictions")
	require.Equal(t, []string{"Trading day", "Close price"}, chart.AxisTitles)
	for _, name := range []string{"linreg", "arima", "naive"} {
		require.Greater(t, chart.TestLines[name], 20, "%s's test-day line has too few points", name)
		require.Equal(t, chart.TestLines[name], chart.Tooltips[name], "every test-day point of %s has its tooltip", name)
		require.Contains(t, chart.Legend, name)
	}
	// Each row names its model, and under it the specification it fitted.
	rows := eval[[]string](b, "read the models table", `[...document.querySelectorAll("#models tr th:first-child")].map((td) => td.childNodes[1].textContent)`)
	require.Equal(t, []string{"arima", "linreg", "naive"}, rows)
	specs := eval[[]string](b, "read the fitted specifications", `[...document.querySelectorAll("#models tr th:first-child small")].map((s) => s.textContent)`)
	require.Equal(t, []string{"ARIMA(6,1,0)"}, specs)
	// The evaluation: a row per horizon (the default 7), a column per
	// model, narrow enough for a phone.
	b.do("find the evaluation", chromedp.WaitVisible(chromedp.CSS(`#evaluation-table`)))
	evaluation := eval[struct {
		Head []string `json:"head"`
		Rows int      `json:"rows"`
		Over int64    `json:"over"`
	}](b, "read the evaluation table", `(() => {
	  const table = document.getElementById("evaluation-table");
	  return {head: [...table.querySelectorAll("thead th")].map((th) => th.textContent),
	    rows: table.querySelectorAll("tbody tr").length,
	    over: table.scrollWidth - table.parentElement.clientWidth};
	})()`)
	require.Equal(t, []string{"h", "arima", "linreg", "naive"}, evaluation.Head)
	require.Equal(t, 7, evaluation.Rows)
	require.LessOrEqual(t, evaluation.Over, int64(0), "the evaluation table is wider than its card at %s", b.vp.name)
	require.Contains(t, b.text("#eval-plan"), "10 origins 5 trading days apart")
	require.GreaterOrEqual(t, b.chartTextSize("#chart svg"), 11.0, "the chart's text is too small to read")
	require.NotEmpty(t, b.text("#models-verdict"))
	b.fitsThePhone("the job page")
	b.destructiveAsk("the job page")
	if b.vp.name == "desktop" {
		// On a desktop the eleven columns fit the card: none hides
		// behind a sideways scroll.
		overflow := eval[int64](b, "measure the models table", `(() => {
		  const table = document.getElementById("models-table");
		  return table.scrollWidth - table.parentElement.clientWidth;
		})()`)
		require.LessOrEqual(t, overflow, int64(0), "the models table is wider than its card on a desktop")
	}
	b.screenshot("job")

	// The legend hides a model, and shows it again.
	b.do("hide linreg", click(`#legend button[title="Hide linreg"]`), chromedp.WaitVisible(chromedp.CSS(`#legend button[title="Show linreg"]`)))
	require.Zero(t, eval[int](b, "count linreg's lines", `document.querySelectorAll('#chart path[stroke="#E69F00"]').length`))
	b.do("show linreg", click(`#legend button[title="Show linreg"]`), chromedp.WaitVisible(chromedp.CSS(`#legend button[title="Hide linreg"]`)))

	// Run again: the same parameters, as a new job that runs the models
	// afresh.
	id := path.Base(location)
	b.do("run again", follow(`#job-again`), waitPage("job"),
		chromedp.WaitVisible(chromedp.CSS(`#job-status.succeeded, #job-status.failed, #job-status.canceled`)))
	again := path.Base(result(b, "read the new job's address", chromedp.Location()))
	require.NotEqual(t, id, again)
	params := eval[[]map[string]any](b, "read both jobs' parameters", `Promise.all(["`+id+`", "`+again+`"].map((id) =>
	  fetch("/api/v1/jobs/" + id).then((r) => r.json()).then((j) => j.params)))`)
	require.Equal(t, true, params[1]["fresh"], "a job run again runs afresh")
	delete(params[1], "fresh")
	require.Equal(t, params[0], params[1], "a job run again has the same parameters")

	// The job is in the list of the prediction page.
	b.nav("/", "index")
	b.do("find the job", chromedp.WaitVisible(chromedp.CSS(`#jobs a[href="/jobs/`+id+`"]`)))
	job := eval[[]string](b, "read the job's row", `[...document.querySelector('#jobs a[href="/jobs/`+id+`"]').closest("tr").querySelectorAll("td")].slice(1).map((td) => td.innerText.trim())`)
	require.Equal(t, []string{"prediction", "MSFT", "succeeded", "100%"}, job)

	b.portfolio(base)
	b.watchlists()
	b.account()
	b.admin(base)

	b.mu.Lock()
	defer b.mu.Unlock()
	require.Empty(t, b.problems, "the pages went wrong along the way")
}

// portfolio deposits, buys 10 MSFT and sells 4 on the dashboard, is
// refused a buy the wallet cannot cover, and checks every figure the
// dashboard shows, and that the JSON API, called from the page with the
// browser's session, says the same. MSFT's last close in the bundled
// sample is 43.38 (2001-01-02), and the cheapest demo broker, Thrifty
// Trades, takes 0.10 %:
//
//	deposit                                      wallet 10000.00
//	buy 10 × 43.38 = 433.80, commission 0.43     wallet  9565.77, basis 434.23
//	sell 4 × 43.38 = 173.52, commission 0.17     wallet  9739.12
//	the 4 sold carry 434.23 × 4/10 = 173.69 of the basis:
//	realised (173.52 − 0.17) − 173.69 = −0.34
//	held 6, basis 260.54 (average 43.4233), value 6 × 43.38 = 260.28,
//	unrealised −0.26, total value 9739.12 + 260.28 = 9999.40
func (b *browser) portfolio(base string) {
	t := b.t
	b.nav("/dashboard", "dashboard")
	require.Equal(t, "No holdings yet: deposit money, then buy below.", b.text("#holdings tbody td"))

	const orders = `form[action="/dashboard/orders"]`
	b.do("deposit",
		fill(`form[action="/dashboard/deposits"] input[name="amount"]`, "10000.00"),
		follow(`form[action="/dashboard/deposits"] button[type="submit"]`),
		waitPage("dashboard"), chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	require.Equal(t, "Deposit to wallet: 10000.00.", b.text(".flash"))
	// The order is previewed by the server's rule before it is placed:
	// the figures the trade then has.
	b.do("preview buying 10 MSFT",
		chromedp.SetValue(chromedp.CSS(orders+` select[name="symbol"]`), "MSFT"),
		fill(orders+` input[name="quantity"]`, "10"),
		chromedp.WaitVisible(chromedp.CSS(`#order-preview[data-quantity="10"]`)),
	)
	require.Equal(t, "Buy 10 × 43.38 through Thrifty Trades: total $433.80, commission $0.43, wallet after $9,565.77.", b.text("#order-preview"))
	b.do("buy 10 MSFT",
		follow(orders+` button[value="buy"]`),
		waitPage("dashboard"), chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	require.Equal(t, "Bought 10 MSFT at 43.38 through Thrifty Trades (close of 2001-01-02, bundled sample data, not live): 433.80, commission 0.43.", b.text(".flash"))
	require.Equal(t, "MSFT", eval[string](b, "read the order form's company", `document.querySelector('`+orders+` select[name="symbol"]').value`),
		"the order form keeps the company just traded")
	b.do("sell 4 MSFT",
		fill(orders+` input[name="quantity"]`, "4"),
		chromedp.WaitVisible(chromedp.CSS(`#order-preview[data-quantity="4"]`)),
	)
	require.Equal(t, "Buy 4 × 43.38 through Thrifty Trades: total $173.52, commission $0.17, wallet after $9,392.08.\n\n"+
		"Sell 4 × 43.38 through Thrifty Trades: total $173.52, commission $0.17, wallet after $9,739.12.", b.text("#order-preview"))
	b.do("sell 4 MSFT",
		follow(orders+` button[value="sell"]`),
		waitPage("dashboard"), chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	require.Equal(t, "Sold 4 MSFT at 43.38 through Thrifty Trades (close of 2001-01-02, bundled sample data, not live): 173.52, commission 0.17.", b.text(".flash"))

	// What the dashboard shows: where prices come from, the figures, the
	// holding, the transactions.
	require.Equal(t, "Not live market prices: MSFT from bundled sample data (the 30 Dow Jones stocks of 2000, daily 1991–2000, and the S&P 500, 2000–2020), last close 2001-01-02.", b.text(".notice"))
	figures := eval[map[string]string](b, "read the figures", `Object.fromEntries([...document.querySelectorAll(".figures div")]
	  .map((d) => [d.querySelector("dt").textContent.trim(), d.querySelector("dd").textContent.trim()]))`)
	require.Equal(t, map[string]string{
		"Wallet": "$9,739.12", "Total invested": "$260.54", "Market value": "$260.28", "Unrealised P/L": "-$0.26",
		"Realised P/L": "-$0.34", "Dividends": "$0.00", "Total value": "$9,999.40",
	}, figures)
	table := func(id string) [][]string {
		return eval[[][]string](b, "read "+id, `[...document.querySelectorAll("#`+id+` tbody tr")]
		  .map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent.trim()))`)
	}
	require.Equal(t, [][]string{{"MSFT", "Microsoft Corporation", "6", "$43.42", "$43.38", "$260.28", "-$0.26"}}, table("holdings"))
	var trades [][]string
	for _, row := range table("transactions") {
		trades = append(trades, row[1:]) // without the time
	}
	require.Equal(t, [][]string{
		{"SELL", "MSFT", "4", "43.38", "$173.52", "$0.17", "Thrifty Trades"},
		{"BUY", "MSFT", "10", "43.38", "$433.80", "$0.43", "Thrifty Trades"},
		{"DEPOSIT", "", "", "", "$10,000.00", "$0.00", ""},
	}, trades)
	b.do("find the value chart", chromedp.WaitVisible(chromedp.CSS(".value-chart svg polyline")))
	require.GreaterOrEqual(t, b.chartTextSize(".value-chart svg"), 11.0, "the value chart's text is too small to read")
	// Times are on the browser's clock, with UTC on hover.
	require.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d UTC$`, eval[string](b, "read a time's title", `document.querySelector("#transactions time").title`))
	b.fitsThePhone("the dashboard")
	b.screenshot("dashboard")

	// A buy the wallet cannot cover is refused beside its form, and
	// changes nothing.
	b.do("buy too much",
		chromedp.SetValue(chromedp.CSS(orders+` select[name="symbol"]`), "MSFT"),
		fill(orders+` input[name="quantity"]`, "1000"),
		follow(orders+` button[value="buy"]`),
		chromedp.WaitVisible(chromedp.CSS(`section[aria-labelledby="trade-title"] .error`)),
	)
	require.Contains(t, strings.ToLower(b.text(`section[aria-labelledby="trade-title"] .error`)), "insufficient funds")
	require.Equal(t, "$9,739.12", b.text(".figures div:first-child dd"))
	b.expectProblem("422 from %s/dashboard/orders", base)

	// The JSON API, with the browser's session, agrees.
	p := eval[map[string]any](b, "GET the portfolio", `fetch("/api/v1/portfolio").then((r) => r.json())`)
	require.Equal(t, "9739.12", p["wallet"].(map[string]any)["balance"])
	holdings := p["holdings"].([]any)
	require.Len(t, holdings, 1)
	require.Equal(t, map[string]any{"symbol": "MSFT", "quantity": "6", "average_cost": "43.4233", "cost_basis": "260.54", "value": "260.28", "unrealised_pl": "-0.26"},
		pick(holdings[0].(map[string]any), "symbol", "quantity", "average_cost", "cost_basis", "value", "unrealised_pl"))
	require.Equal(t, map[string]any{"realised_pl": "-0.34", "total_invested": "260.54", "market_value": "260.28", "total_value": "9999.40", "commissions": "0.60"},
		pick(p, "realised_pl", "total_invested", "market_value", "total_value", "commissions"))
}

// pick returns the named fields of m.
func pick(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// watchlists saves a watchlist and deletes it: the first Delete, refused
// at its question, keeps it.
func (b *browser) watchlists() {
	t := b.t
	b.nav("/watchlists", "watchlists")
	b.do("save a watchlist",
		fill(`form[action="/watchlists"] input[name="name"]`, "Tech"),
		fill(`form[action="/watchlists"] textarea[name="tickers"]`, "MSFT IBM"),
		follow(`form[action="/watchlists"] button[type="submit"]`),
		waitPage("watchlists"), chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	require.Equal(t, "Watchlist Tech saved.", b.text(".flash"))
	b.destructiveAsk("the watchlists")
	b.fitsThePhone("the watchlists")
	b.screenshot("watchlists")
	const del = `section.watchlist form[action$="/delete"]`
	require.Equal(t, "Delete the watchlist Tech?", b.submitAnswering(del, false))
	require.Equal(t, "Tech", b.text("section.watchlist h2"), "a refused Delete keeps the watchlist")
	require.Equal(t, "Delete the watchlist Tech?", b.submitAnswering(del, true))
	b.do("wait for the deletion", waitPage("watchlists"), chromedp.WaitVisible(chromedp.CSS(".flash")))
	require.Equal(t, "The watchlist is deleted; its batches stay.", b.text(".flash"))
	require.Zero(t, eval[int](b, "count the watchlists", `document.querySelectorAll("section.watchlist").length`))
}

// account creates an API token, which comes with a Copy button, and
// checks that Revoke asks first.
func (b *browser) account() {
	t := b.t
	b.nav("/account", "account")
	b.do("create a token",
		fill(`form[action="/account/tokens"] input[name="name"]`, "laptop"),
		follow(`form[action="/account/tokens"] button[type="submit"]`),
		waitPage("account"), chromedp.WaitVisible(chromedp.CSS(`button[data-copy="new-token-value"]`)),
		click(`button[data-copy="new-token-value"]`),
		chromedp.WaitVisible(chromedp.CSS(`button[data-copy="new-token-value"][data-done]`)),
	)
	// Headless Chromium may refuse the clipboard; then the token is
	// selected for the user to copy.
	require.Contains(t, []string{"Copied", "Selected: press Ctrl+C"}, b.text(`button[data-copy="new-token-value"]`))
	b.destructiveAsk("the account")
	b.fitsThePhone("the account")
	b.screenshot("account")
}

// admin makes the walker an administrator and visits every admin page:
// each fits a phone, and its destructive buttons ask first.
func (b *browser) admin(base string) {
	t := b.t
	b.promote(eval[string](b, "read the username", `document.querySelector('nav a[href="/account"]').textContent`))
	// The header offers the admin pages from the next page on.
	b.open(base, "/account", "account")
	for _, p := range []struct{ path, page string }{
		{"/admin", "admin"}, {"/admin/users", "admin_users"}, {"/admin/companies", "admin_companies"},
		{"/admin/brokers", "admin_brokers"}, {"/admin/queues", "admin_queues"}, {"/admin/schedules", "admin_schedules"},
	} {
		b.nav(p.path, p.page)
		b.destructiveAsk(p.path)
		b.fitsThePhone(p.path)
		b.screenshot(path.Base(p.path))
		if p.page == "admin_queues" {
			require.Regexp(t, `^Pause the \w+ queue\? Its tasks wait until it is resumed\.$`, b.submitAnswering(`form[action^="/admin/queues/"][action$="/pause"]`, false))
			require.Zero(t, eval[int](b, "count the paused queues", `document.querySelectorAll("table.queues .badge.canceled").length`), "a refused Pause pauses nothing")
		}
	}
}

// TestAuditPageReadsAtAPhoneWidth signs an admin in at 360 px and opens
// /admin/audit: the sign-in's own row is listed, the filters are there,
// and the page does not scroll sideways (the table scrolls in its card).
func TestAuditPageReadsAtAPhoneWidth(t *testing.T) {
	chromium := findChromium(t)
	s := newStack(t)
	admin, err := newUser(context.Background(), s.db, "auditor@example.com", "auditor", browserPassword, store.RoleAdmin)
	require.NoError(t, err)
	b := newBrowser(t, chromium, viewport{name: "narrow-phone", width: 360, height: 740, mobile: true})
	b.open(s.url, "/login", "login")
	b.do("sign in",
		fill(`input[name="email"]`, admin.Email),
		fill(`input[name="password"]`, browserPassword),
		follow(`form[action="/login"] button[type="submit"]`),
		waitPage("index"),
	)
	b.open(s.url, "/admin/audit?actor="+admin.Email, "admin_audit")
	require.Contains(t, b.text("table.audit tbody"), "auth.signin")
	require.Equal(t, admin.Email, eval[string](b, "read the actor filter", `document.querySelector('input[name="actor"]').value`))
	b.fitsTheWidth("the audit page")
	b.screenshot("audit")
}
