// Command report turns the results folder of bench/run.sh into BENCHMARKS.md: the machine, each
// table with the command that produced it, medians over the repeated runs, ratios taken per round
// (side by side, under the same load) and then their median, and the targets met or missed.
//
//	go run ./bench/report -in RESULTS -out BENCHMARKS.md
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opensky-eventhubs/handler/bench/internal/coldresult"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	in := fs.String("in", "", "results folder written by bench/run.sh (required)")
	out := fs.String("out", "BENCHMARKS.md", "file to write")
	manual := fs.String("manual", "bench/manual.md", "sections measured by hand, appended as they are (none if the file is absent)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("-in is required")
	}
	r, err := load(*in)
	if err != nil {
		return err
	}
	var b strings.Builder
	r.write(&b)
	extra, err := os.ReadFile(*manual)
	switch {
	case err == nil:
		// Drop the file's leading comment: it speaks to whoever edits the file.
		if _, rest, ok := strings.Cut(string(extra), "-->\n"); ok && strings.HasPrefix(string(extra), "<!--") {
			extra = []byte(rest)
		}
		b.WriteString("\n")
		b.Write(extra)
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	return os.WriteFile(*out, []byte(b.String()), 0o644)
}

// ---------------------------------------------------------------------------------------------
// Loading.

// bench is one result line of go test -bench: its metrics by unit.
type bench map[string]float64

// procTime is one line of /usr/bin/time -f '%e %U %S %M'.
type procTime struct{ wall, user, sys, rssKB float64 }

func (p procTime) cpu() float64 { return p.user + p.sys }

// scriptOut is what send_like.py and send.js print.
type scriptOut struct {
	Mode      string             `json:"mode"`
	Events    int                `json:"events"`
	Batches   int                `json:"batches"`
	Gzip      bool               `json:"gzip"`
	Seconds   map[string]float64 `json:"-"`
	RawSecs   json.RawMessage    `json:"seconds"`
	MedianS   float64            `json:"median_s"`
	PeakRSSMB float64            `json:"peak_rss_mb"`
	BaseRSSMB float64            `json:"base_rss_mb"`
}

// sample is one process run of a side-by-side comparison.
type sample struct {
	time   procTime
	bench  bench     // Go: the benchmark line
	script scriptOut // Python, Node
	tickMS float64   // Go handler: the tick's own duration from its log
	events int
}

type results struct {
	dir      string
	versions map[string]string
	commands map[string]string
	gobench  map[string][]bench // by name without the -GOMAXPROCS suffix, in count order
	publish  map[string][]bench
	cpu      map[string]map[string][]sample // recording -> impl -> rounds (index = round-1)
	tick     map[string]map[string][]sample
	cold     []coldresult.Result
	inits    []map[string]float64 // per run: package -> init clock ms
	initEnd  []float64            // per run: ms from process start to the end of the last init
	pprofTop string
	cum      map[string]float64 // function -> cum% on the world recording
	cum1k    map[string]float64
	cum100k  map[string]float64
	// runtime variants of the path (run.sh step 1c, shown in section 1e): variant -> benchmark -> counts
	runtime map[string]map[string][]bench
}

// runtimeVariants are the settings run.sh step 1c runs its inputs under, in the order shown.
var runtimeVariants = []string{"default", "GOMAXPROCS=1", "GOGC=400"}

func load(dir string) (*results, error) {
	r := &results{dir: dir}
	var err error
	if r.versions, err = loadKV(filepath.Join(dir, "versions.txt")); err != nil {
		return nil, err
	}
	if r.commands, err = loadCommands(filepath.Join(dir, "commands.tsv")); err != nil {
		return nil, err
	}
	if r.gobench, err = loadBench(filepath.Join(dir, "gobench.txt")); err != nil {
		return nil, err
	}
	r.runtime = map[string]map[string][]bench{}
	for _, v := range runtimeVariants {
		// Optional: results from before run.sh had section 1c lack them.
		if b, err := loadBench(filepath.Join(dir, "gobench-runtime-"+v+".txt")); err == nil {
			r.runtime[v] = b
		}
	}
	if r.publish, err = loadBench(filepath.Join(dir, "publish.txt")); err != nil {
		return nil, err
	}
	if r.cpu, err = loadSamples(filepath.Join(dir, "cpu")); err != nil {
		return nil, err
	}
	if r.tick, err = loadSamples(filepath.Join(dir, "tick")); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "coldstart.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &r.cold); err != nil {
		return nil, fmt.Errorf("coldstart.json: %w", err)
	}
	traces, _ := filepath.Glob(filepath.Join(dir, "inittrace-*.txt"))
	for _, f := range traces {
		m, end, err := loadInitTrace(f)
		if err != nil {
			return nil, err
		}
		r.inits, r.initEnd = append(r.inits, m), append(r.initEnd, end)
	}
	top, err := os.ReadFile(filepath.Join(dir, "pprof-top.txt"))
	if err != nil {
		return nil, err
	}
	r.pprofTop = string(top)
	if r.cum, err = loadCum(filepath.Join(dir, "pprof-cum.txt")); err != nil {
		return nil, err
	}
	if r.cum1k, err = loadCum(filepath.Join(dir, "pprof-1k-cum.txt")); err != nil {
		return nil, err
	}
	if r.cum100k, err = loadCum(filepath.Join(dir, "pprof-100k-cum.txt")); err != nil {
		return nil, err
	}
	return r, nil
}

// loadKV reads "key: value" lines (versions.txt).
func loadKV(path string) (map[string]string, error) {
	return loadPairs(path, ": ", strings.TrimSpace)
}

// loadCommands reads "section<TAB>command" lines (commands.tsv); a command keeps its spaces.
func loadCommands(path string) (map[string]string, error) {
	return loadPairs(path, "\t", func(line string) string { return strings.TrimRight(line, "\n") })
}

// loadPairs reads a file of lines that sep splits into a key and a value, each line trimmed first.
func loadPairs(path, sep string, trim func(string) string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(trim(line), sep); ok {
			m[k] = v
		}
	}
	return m, nil
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBenchLine reads "BenchmarkX/y-2  N  v unit  v unit ...".
func parseBenchLine(line string) (string, bench, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", nil, false
	}
	b := bench{}
	n, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return "", nil, false
	}
	b["N"] = n
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		b[f[i+1]] = v
	}
	return procsSuffix.ReplaceAllString(f[0], ""), b, true
}

func loadBench(path string) (map[string][]bench, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string][]bench{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, b, ok := parseBenchLine(sc.Text()); ok {
			m[name] = append(m[name], b)
		}
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results", path)
	}
	return m, sc.Err()
}

var (
	sampleFile = regexp.MustCompile(`^(\d+)-([a-z-]+)\.time$`)
	tickLine   = regexp.MustCompile(`tick ok: .*?, (\d+) states, .*, (\d+)ms"?\s*$`)
)

// loadSamples reads DIR/<recording>/<round>-<impl>.{time,out,err}.
func loadSamples(dir string) (map[string]map[string][]sample, error) {
	recs, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string][]sample{}
	for _, rec := range recs {
		files, err := os.ReadDir(filepath.Join(dir, rec.Name()))
		if err != nil {
			return nil, err
		}
		byImpl := map[string][]sample{}
		for _, f := range files {
			m := sampleFile.FindStringSubmatch(f.Name())
			if m == nil {
				continue
			}
			round, _ := strconv.Atoi(m[1])
			impl := m[2]
			base := filepath.Join(dir, rec.Name(), m[1]+"-"+impl)
			s, err := loadSample(base)
			if err != nil {
				return nil, err
			}
			for len(byImpl[impl]) < round {
				byImpl[impl] = append(byImpl[impl], sample{})
			}
			byImpl[impl][round-1] = s
		}
		out[rec.Name()] = byImpl
	}
	return out, nil
}

func loadSample(base string) (sample, error) {
	var s sample
	tb, err := os.ReadFile(base + ".time")
	if err != nil {
		return s, err
	}
	lines := strings.Fields(strings.TrimSpace(lastLine(string(tb))))
	if len(lines) != 4 {
		return s, fmt.Errorf("%s.time: want 'wall user sys maxrss', got %q", base, tb)
	}
	v := make([]float64, 4)
	for i, x := range lines {
		if v[i], err = strconv.ParseFloat(x, 64); err != nil {
			return s, fmt.Errorf("%s.time: %w", base, err)
		}
	}
	s.time = procTime{v[0], v[1], v[2], v[3]}
	outb, err := os.ReadFile(base + ".out")
	if err != nil {
		return s, err
	}
	errb, _ := os.ReadFile(base + ".err")
	for line := range strings.Lines(string(outb)) {
		if _, b, ok := parseBenchLine(line); ok {
			s.bench = b
			s.events = int(b["states"])
		}
	}
	if t := strings.TrimSpace(string(outb)); strings.HasPrefix(t, "{") {
		if err := json.Unmarshal([]byte(t), &s.script); err != nil {
			return s, fmt.Errorf("%s.out: %w", base, err)
		}
		_ = json.Unmarshal(s.script.RawSecs, &s.script.Seconds) // a map in tick mode, a list in cpu mode
		s.events = s.script.Events
	}
	for line := range strings.Lines(string(errb)) {
		if m := tickLine.FindStringSubmatch(line); m != nil {
			s.events, _ = strconv.Atoi(m[1])
			s.tickMS, _ = strconv.ParseFloat(m[2], 64)
		}
	}
	return s, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

var initLine = regexp.MustCompile(`^init (\S+) @([\d.]+) ms, ([\d.]+) ms clock`)

func loadInitTrace(path string) (map[string]float64, float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	m := map[string]float64{}
	var end float64
	for line := range strings.Lines(string(b)) {
		g := initLine.FindStringSubmatch(line)
		if g == nil {
			continue
		}
		at, _ := strconv.ParseFloat(g[2], 64)
		clock, _ := strconv.ParseFloat(g[3], 64)
		m[g[1]] += clock
		end = max(end, at+clock)
	}
	if len(m) == 0 {
		return nil, 0, fmt.Errorf("%s: no init lines", path)
	}
	return m, end, nil
}

// loadCum reads pprof -top -cum: "flat flat% sum% cum cum% name".
func loadCum(path string) (map[string]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]float64{}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err != nil {
			continue
		}
		m[strings.Join(f[5:], " ")] = v
	}
	return m, nil
}

// cumOf is the cum% of the first function whose name contains sub.
func cumOf(m map[string]float64, sub string) float64 {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		if strings.Contains(k, sub) {
			return m[k]
		}
	}
	return math.NaN()
}

// ---------------------------------------------------------------------------------------------
// Statistics.

func median(v []float64) float64 {
	v = slices.DeleteFunc(slices.Clone(v), func(x float64) bool { return math.IsNaN(x) })
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// metric is the median of one unit over the counts of a benchmark.
func (r *results) metric(name, unit string) float64 { return benchMedian(r.gobench[name], unit) }

// benchMedian is the median of one unit over counts.
func benchMedian(counts []bench, unit string) float64 {
	var v []float64
	for _, b := range counts {
		v = append(v, b[unit])
	}
	return median(v)
}

// runtimeFinding says, from run.sh step 1c, how the path/floor ratio on in (or, for synth-1k, the
// 10k- and 50k-vs-1k ratios) moves when the runtime has one P or a larger GC target ("" without those results).
func (r *results) runtimeFinding(in string) string {
	if len(r.runtime) == 0 {
		return ""
	}
	var parts []string
	for _, v := range runtimeVariants {
		b := r.runtime[v]
		pf := pairedRatio(b["BenchmarkCPUPath/"+in+"/path"], b["BenchmarkCPUPath/"+in+"/floor"], "ns/op")
		flat := pairedRatio(b["BenchmarkCPUPath/synth-10k/path"], b["BenchmarkCPUPath/synth-1k/path"], "ns/state")
		if math.IsNaN(pf) || math.IsNaN(flat) {
			continue
		}
		if in == "synth-1k" {
			part := fmt.Sprintf("%s: 10k states at %s of 1k's cost per state", v, x(flat))
			if f50 := pairedRatio(b["BenchmarkCPUPath/synth-50k/path"], b["BenchmarkCPUPath/synth-1k/path"], "ns/state"); !math.IsNaN(f50) {
				part += fmt.Sprintf(", 50k at %s", x(f50))
			}
			parts = append(parts, part)
		} else {
			parts = append(parts, fmt.Sprintf("%s: %s of the floor on %s", v, x(pf), in))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " The same inputs under other runtime settings (section 1e): " + strings.Join(parts, "; ") + "."
}

// pairedRatio is the median over counts of num/den, each count's pair measured back to back.
func pairedRatio(num, den []bench, unit string) float64 {
	var v []float64
	for i := range min(len(num), len(den)) {
		v = append(v, num[i][unit]/den[i][unit])
	}
	return median(v)
}

// roundRatio is the median over rounds of f(a)/f(b).
func roundRatio(a, b []sample, f func(sample) float64) float64 {
	var v []float64
	for i := range min(len(a), len(b)) {
		v = append(v, f(a[i])/f(b[i]))
	}
	return median(v)
}

func med(s []sample, f func(sample) float64) float64 {
	v := make([]float64, len(s))
	for i := range s {
		v[i] = f(s[i])
	}
	return median(v)
}

// ---------------------------------------------------------------------------------------------
// Formatting.

func ms(sec float64) string {
	switch {
	case math.IsNaN(sec):
		return "n/a"
	case sec >= 1:
		return fmt.Sprintf("%.2f s", sec)
	case sec >= 0.01:
		return fmt.Sprintf("%.0f ms", sec*1e3)
	case sec >= 0.001:
		return fmt.Sprintf("%.1f ms", sec*1e3)
	}
	return fmt.Sprintf("%.0f µs", sec*1e6)
}

func x(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	if v >= 10 {
		return fmt.Sprintf("%.0fx", v)
	}
	return fmt.Sprintf("%.2fx", v)
}

func num(v float64, prec int) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func mb(kb float64) string { return num(kb/1024, 1) + " MB" }

// recordings in the order the tables show them.
var recOrder = []string{"global-2021-10-17", "north-america-2025-01-31", "small-2018-02-13"}

var synthOrder = []string{"synth-1k", "synth-10k", "synth-50k", "synth-100k"}

// target is one row of the targets table.
type target struct {
	what, goal, measured string
	met                  bool
	miss                 string // by how much, when missed
	finding              string
}

// ---------------------------------------------------------------------------------------------
// The report.

func (r *results) write(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	code := func(s string) { p("```\n%s\n```\n\n", strings.TrimRight(s, "\n")) }
	command := func(key string) {
		if c, ok := r.commands[key]; ok {
			p("`%s`\n\n", c)
		}
	}

	const world = "global-2021-10-17"
	const na = "north-america-2025-01-31"

	// Figures the targets need.
	cpu := r.cpu[world]
	pyOverGo := roundRatio(cpu["py"], cpu["go"], func(s sample) float64 { return cpuPathSec(s) })
	pyBatchOverGo := roundRatio(cpu["pybatch"], cpu["go"], func(s sample) float64 { return cpuPathSec(s) })
	// Peak RSS is compared on the in-loop high-water marks, which every way measures the same way.
	rssGoOverPy := roundRatio(cpu["go"], cpu["py"], inLoopRSS)
	rssGoOverPyBatch := roundRatio(cpu["go"], cpu["pybatch"], inLoopRSS)
	tick := r.tick[world]
	goOverNodeWall := roundRatio(tick["go"], tick["node"], func(s sample) float64 { return s.time.wall })
	goOverNodeCPU := roundRatio(tick["go"], tick["node"], func(s sample) float64 { return s.time.cpu() })
	pathOverFloor := pairedRatio(r.gobench["BenchmarkCPUPath/"+world+"/path"], r.gobench["BenchmarkCPUPath/"+world+"/floor"], "ns/op")
	// The same ratio on every input: the target holds only if it holds on all of them.
	floorLo, floorHi := math.Inf(1), 0.0
	var overFloor []string
	for _, in := range append(slices.Clone(recOrder), synthOrder...) {
		base := "BenchmarkCPUPath/" + in
		v := pairedRatio(r.gobench[base+"/path"], r.gobench[base+"/floor"], "ns/op")
		if math.IsNaN(v) {
			continue
		}
		floorLo, floorHi = min(floorLo, v), max(floorHi, v)
		if v > 3 {
			overFloor = append(overFloor, fmt.Sprintf("%s (%s)", in, x(v)))
		}
	}

	flat, flatWorst := r.flatness("BenchmarkCPUPath/%s/path")
	flatCold, _ := r.flatness("BenchmarkCPUPathCold/%s")
	coldFile, coldEH, coldHello := r.coldCase("file sink"), r.coldCase("eventhub sink"), r.coldCase("hello")

	runtimeShares := func(m map[string]float64) string {
		return fmt.Sprintf("GC mark workers %s%%, malloc %s%%, scavenger madvise %s%%",
			num(cumOf(m, "runtime.gcBgMarkWorker"), 0), num(cumOf(m, "runtime.mallocgc"), 0), num(cumOf(m, "runtime.madvise"), 0))
	}
	goBase, pyBase := med(cpu["go"], baseRSS), med(cpu["pybatch"], baseRSS)
	goPeak, pyPeak := med(cpu["go"], inLoopRSS), med(cpu["pybatch"], inLoopRSS)
	allocsPerState := r.metric("BenchmarkCPUPath/"+world+"/path", "allocs/state")
	bytesPerState := r.metric("BenchmarkCPUPath/"+world+"/path", "B/state")
	floorPerState := r.metric("BenchmarkCPUPath/"+world+"/floor", "ns/state")
	pyPerState := med(cpu["pybatch"], cpuPathSec) * 1e9 / med(cpu["pybatch"], func(s sample) float64 { return float64(s.events) })
	goPerState := r.metric("BenchmarkCPUPath/"+world+"/path", "ns/state")
	cpuFinding := fmt.Sprintf("Where the path's time goes (CPU profile on the world recording, cum%% of samples; "+
		"the full listing is at the end): %s; runtime: %s. It allocates %s objects (%s bytes) per state. For scale: Python's "+
		"path with its batching costs about %s ns per state; a 20x lead needs the Go path at %s ns per state or less "+
		"(it takes %s), %s of Go's bare encoding/json decode of the same bytes (%s ns per state, the floor).",
		stepShares(r.cum), runtimeShares(r.cum), num(allocsPerState, 1), num(bytesPerState, 0),
		num(pyPerState, 0), num(pyPerState/20, 0), num(goPerState, 0), x((pyPerState/20)/floorPerState), num(floorPerState, 0))

	targets := []target{
		{
			what: "CPU path vs the Python way (world recording)", goal: ">= 20x faster",
			measured: fmt.Sprintf("%s faster, both from the bytes to events in EventDataBatches; %s faster than Python's path without its batching (json.loads to json.dumps)", x(pyBatchOverGo), x(pyOverGo)),
			met:      pyBatchOverGo >= 20, miss: fmt.Sprintf("%s short of 20x", x(20/pyBatchOverGo)), finding: cpuFinding,
		},
		{
			what: "Peak RSS of the CPU path vs Python (process, world recording)", goal: "<= 1/4",
			measured: fmt.Sprintf("%s of Python's (both batching); %s of Python's path without its batching", x(rssGoOverPyBatch), x(rssGoOverPy)),
			met:      rssGoOverPyBatch <= 0.25, miss: fmt.Sprintf("%s above a quarter", x(rssGoOverPyBatch/0.25)),
			finding: fmt.Sprintf("Before reading any data the Go process holds %s MB and Python %s MB; during the loop "+
				"they peak at %s and %s MB, so the work itself adds %s MB in Go against %s MB in Python: Go's lower total "+
				"comes from its smaller runtime, not from the work. Go's peak follows its allocation volume, %s B per state, "+
				"%s of it in the SDK's batching (each message marshalled into a buffer of its own, grown by doubling), "+
				"with the GC letting the heap reach about twice the live set (GOGC=100); GOMEMLIMIT could cap it at some "+
				"CPU cost. A quarter of Python's peak is %s MB, %s MB above the Go process's own footprint before it reads anything.",
				num(goBase, 0), num(pyBase, 0), num(goPeak, 0), num(pyPeak, 0), num(goPeak-goBase, 0), num(pyPeak-pyBase, 0),
				num(bytesPerState, 0), num(r.metric("BenchmarkStep/batch", "B/state"), 0), num(pyPeak/4, 1), num(pyPeak/4-goBase, 1)),
		},
		{
			what: "Whole tick vs the Node script (world recording)", goal: "ahead (wall)",
			measured: fmt.Sprintf("Go takes %s of Node's wall time, %s of its CPU time", x(goOverNodeWall), x(goOverNodeCPU)),
			met:      goOverNodeWall < 1, miss: fmt.Sprintf("%s slower than Node", x(goOverNodeWall)),
			finding: "See the whole-tick section: compare the handler's in-process tick time with the process wall time, " +
				"and BenchmarkPublishPeer cold vs warm (link set-up per partition).",
		},
		{
			what: "CPU path vs the encoding/json floor (every input)", goal: "<= 3x",
			measured: fmt.Sprintf("%s on the world recording; %s to %s over all inputs", x(pathOverFloor), x(floorLo), x(floorHi)),
			met:      len(overFloor) == 0,
			miss:     fmt.Sprintf("on %s: up to %s over 3x", strings.Join(overFloor, ", "), x(floorHi/3)),
			finding: fmt.Sprintf("The inputs over 3x are the smallest. A tick has costs that do not depend on its size: "+
				"per partition with events, a goroutine, an EventDataBatch from the SDK (NewEventDataBatch looks the link up and "+
				"formats a log prefix) and two calls through the retry layer (a deadline and a timer each); the 6-state "+
				"recording takes %s per tick against %s for its floor.%s",
				ms(r.metric("BenchmarkCPUPath/small-2018-02-13/path", "ns/op")/1e9), ms(r.metric("BenchmarkCPUPath/small-2018-02-13/floor", "ns/op")/1e9),
				r.runtimeFinding("small-2018-02-13")),
		},
		{
			what: "Cost per state, 1k..100k states (warm heap)", goal: "flat within 1.2x",
			measured: fmt.Sprintf("largest/smallest %s (furthest from 1k: %s); with a cold heap %s", x(flat), flatWorst, x(flatCold)),
			met:      flat <= 1.2, miss: fmt.Sprintf("%s over 1.2x", x(flat/1.2)),
			finding: fmt.Sprintf("The size furthest from 1k's cost per state is %s; at that size the bare encoding/json "+
				"floor moves by %s against its own 1k cost, so the runtime and the machine at that heap size account "+
				"for much of it. CPU profiles of the path "+
				"(`-test.cpuprofile`, 4 s each): at 1k states %s; at 100k %s. Peak RSS grows from %s MB at 1k to %s MB "+
				"at 100k: the GC's fixed costs weigh most on small heaps (below its 4 MB minimum), marking and cache "+
				"misses on large ones.%s",
				flatWorst, x(pairedRatio(r.gobench["BenchmarkCPUPath/synth-"+flatWorst+"/floor"], r.gobench["BenchmarkCPUPath/synth-1k/floor"], "ns/state")),
				runtimeShares(r.cum1k), runtimeShares(r.cum100k),
				num(r.metric("BenchmarkCPUPath/synth-1k/path", "peak-RSS-MB"), 0), num(r.metric("BenchmarkCPUPath/synth-100k/path", "peak-RSS-MB"), 0),
				r.runtimeFinding("synth-1k")),
		},
		r.coldTarget("Cold start, file sink (exec until GET / answers)", coldFile, coldHello, nil),
		r.coldTarget("Cold start, eventhub sink (as in Azure)", coldEH, coldHello, coldFile),
	}

	p("# Benchmarks\n\n")
	p("Written by `make bench` (`bash bench/run.sh`, then `go run ./bench/report`) on %s. Every figure below comes "+
		"from the command printed above its table. Times are medians over repeated runs; every ratio is taken per "+
		"round, between runs made back to back under the same load, and the median of those ratios is shown, "+
		"because absolute times drift on this shared machine. No test asserts on time.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	p("In commands, `$REPLAY` is a local replay of the recording (`test/replay`, `/api/states/all`, gzip when asked), " +
		"`$PEER` the local Event Hubs peer (`test/ehpeer`, 4 partitions), " +
		"`$RECORDING`/`$REC` a file under `../shared/opensky/states/` and its name.\n\n")

	p("## Machine\n\n| | |\n|---|---|\n")
	p("| CPU | %s (`/proc/cpuinfo`), %d cores (`nproc`) |\n", cpuModel(), runtime.NumCPU())
	if v, ok := r.versions["cpu (go test)"]; ok {
		p("| CPU as go test names it | %s |\n", v)
	}
	p("| memory | %s |\n", memTotal())
	for _, k := range []string{"load at start", "kernel", "go", "python", "requests", "azure.eventhub", "node", "@azure/event-hubs", "rhea (peer)"} {
		if v, ok := r.versions[k]; ok {
			p("| %s | %s |\n", k, v)
		}
	}
	p("\n")

	p("## Targets\n\n| target | goal | measured | |\n|---|---|---|---|\n")
	for _, t := range targets {
		verdict := "met"
		if !t.met {
			verdict = "**missed**: " + t.miss
		}
		p("| %s | %s | %s | %s |\n", t.what, t.goal, t.measured, verdict)
	}
	p("\n")
	var missed []target
	for _, t := range targets {
		if !t.met {
			missed = append(missed, t)
		}
	}
	if len(missed) > 0 {
		p("### What the profiles show for the misses\n\n")
		seen := map[string]bool{}
		for _, t := range missed {
			if seen[t.finding] {
				p("- **%s**: as above.\n", t.what)
				continue
			}
			seen[t.finding] = true
			p("- **%s**: %s\n", t.what, t.finding)
		}
		p("\n")
	}

	// 1. CPU path.
	p("## 1. The per-tick CPU path\n\n")
	p("Decode, Transform, Encode and `Sink.Publish` up to the wire, as `internal/eventhub/cpupath_bench_test.go` " +
		"calls them: Encode on the `flight.Encoder` of the ops before, whose buffers `tick.Runner` keeps from tick to tick; partition assignment (4 partitions), an `EventDataBatch` per partition from the SDK and " +
		"`AddAMQPAnnotatedMessage` of each event (the AMQP encoding). The SDK builds a batch only on a link to a hub, so the sink is " +
		"connected to the local peer and only its send, putting each full batch on the wire, is a no-op; sending is " +
		"measured against the peer in 1d. The floor is `json.Unmarshal` of the same bytes into `any`. Synthetic snapshots are real state vectors " +
		"from the world and North America recordings, drawn at random (fixed seed), each with its own icao24. " +
		"Peak RSS is the benchmark process's high-water mark during the timed loop (test binary and input included).\n\n")
	command("gobench")
	p("| input | states | floor | path | path/floor | path per tick | B/state | allocs/state | peak RSS |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, in := range append(slices.Clone(recOrder), synthOrder...) {
		base := "BenchmarkCPUPath/" + in
		if _, ok := r.gobench[base+"/path"]; !ok {
			continue
		}
		p("| %s | %s | %s ns/state | %s ns/state | %s | %s | %s | %s | %s MB |\n", in,
			num(r.metric(base+"/path", "states"), 0),
			num(r.metric(base+"/floor", "ns/state"), 0), num(r.metric(base+"/path", "ns/state"), 0),
			x(pairedRatio(r.gobench[base+"/path"], r.gobench[base+"/floor"], "ns/op")),
			ms(r.metric(base+"/path", "ns/op")/1e9),
			num(r.metric(base+"/path", "B/state"), 0), num(r.metric(base+"/path", "allocs/state"), 1),
			num(r.metric(base+"/path", "peak-RSS-MB"), 0))
	}
	p("\n### 1a. Cost per state from 1k to 100k states\n\n")
	p("Warm: the heap is reused from the op before (go test's steady state). Cold (`BenchmarkCPUPathCold`): the heap is " +
		"handed back to the OS before each op, as in a handler that idles between ticks (all but the Encoder's buffers, " +
		"which the Runner keeps); each op then faults its memory in again. Ratios are to 1k, per count, median; \"floor vs 1k\" is the same ratio for the bare encoding/json " +
		"decode, which shares the runtime's behaviour at each heap size but none of the path's code.\n\n")
	p("| states | warm ns/state | vs 1k | cold ns/state | vs 1k | floor vs 1k | peak RSS (warm) |\n|---|---|---|---|---|---|---|\n")
	for _, in := range synthOrder {
		warm, cold := "BenchmarkCPUPath/"+in+"/path", "BenchmarkCPUPathCold/"+in
		p("| %s | %s | %s | %s | %s | %s | %s MB |\n", strings.TrimPrefix(in, "synth-"),
			num(r.metric(warm, "ns/state"), 0), x(pairedRatio(r.gobench[warm], r.gobench["BenchmarkCPUPath/synth-1k/path"], "ns/state")),
			num(r.metric(cold, "ns/state"), 0), x(pairedRatio(r.gobench[cold], r.gobench["BenchmarkCPUPathCold/synth-1k"], "ns/state")),
			x(pairedRatio(r.gobench["BenchmarkCPUPath/"+in+"/floor"], r.gobench["BenchmarkCPUPath/synth-1k/floor"], "ns/state")),
			num(r.metric(warm, "peak-RSS-MB"), 0))
	}
	p("\n### 1b. Steps (world recording, each on the previous step's output)\n\n")
	p("| step | ns/state | share | B/state | allocs/state |\n|---|---|---|---|---|\n")
	var total float64
	steps := []string{"decode", "transform", "encode", "batch"}
	for _, s := range steps {
		total += r.metric("BenchmarkStep/"+s, "ns/state")
	}
	for _, s := range steps {
		n := "BenchmarkStep/" + s
		p("| %s | %s | %s%% | %s | %s |\n", s, num(r.metric(n, "ns/state"), 0), num(100*r.metric(n, "ns/state")/total, 0),
			num(r.metric(n, "B/state"), 0), num(r.metric(n, "allocs/state"), 2))
	}
	p("\n### 1c. Side by side with the Python and Node ways\n\n")
	p("The same CPU path in each language, on the file, in one process per run: Go as in 1 (10 ops); Python " +
		"(`bench/python/send_like.py cpu`: `json.loads`, a dict per state, `json.dumps` per event; median of 5) and the same plus " +
		"`EventDataBatch.add` of each event into batches built with an explicit 1 MB size (`--batch`, median of 3: the " +
		"same steps as Go's path); Node (`bench/node/send.js cpu`: `JSON.parse`, an object per state, " +
		"`JSON.stringify` per event, as the SDK encodes an object body; median of 5). Rounds rotate the order. " +
		"\"in-loop peak\" is each process's RSS high-water mark (`VmHWM`) reset just before its loop (`/proc/self/clear_refs`), " +
		"so it counts the runtime, the imports and the input as well as the loop's own memory; the ratios use it. " +
		"\"max RSS\" is `/usr/bin/time`'s, a cross-check: the kernel resets it with the high-water mark, so it is the " +
		"peak from the loop to the exit (each run measures one loop only). \"RSS before the data\" is the process's RSS " +
		"before it reads the file (runtime, imports; for Go, the test binary).\n\n")
	command("cpu-go")
	command("cpu-py")
	command("cpu-pybatch")
	command("cpu-node")
	p("| recording | way | per tick | Go is faster by | RSS before the data | in-loop peak RSS | max RSS | Go's peak RSS is |\n|---|---|---|---|---|---|---|---|\n")
	for _, rec := range []string{world, na} {
		c := r.cpu[rec]
		if c == nil {
			continue
		}
		for _, impl := range []struct{ key, name string }{{"go", "Go"}, {"py", "Python, to json.dumps"}, {"pybatch", "Python, + EventDataBatch.add"}, {"node", "Node"}} {
			s := c[impl.key]
			if len(s) == 0 {
				continue
			}
			faster, rss := "", ""
			if impl.key != "go" {
				faster = x(roundRatio(s, c["go"], cpuPathSec))
				rss = x(roundRatio(c["go"], s, inLoopRSS)) + " of it"
			}
			p("| %s | %s | %s | %s | %s MB | %s MB | %s | %s |\n", rec, impl.name, ms(med(s, cpuPathSec)), faster,
				num(med(s, baseRSS), 0), num(med(s, inLoopRSS), 0), mb(med(s, func(s sample) float64 { return s.time.rssKB })), rss)
		}
	}
	p("\n### 1d. The sink's Publish against the local peer\n\n")
	p("`BenchmarkPublishPeer`: the world recording's events published with `eventhub.Sink` (AMQP batches per partition, " +
		"4 partitions in parallel) to the peer on the same machine. *cold* is `eventhub.New` + `Publish` + `Close` per op " +
		"(what `handler run --once` does), *warm* a `Publish` on a sink that has its links.\n\n")
	command("publish")
	p("| case | per tick | ns/state | B/state | allocs/state |\n|---|---|---|---|---|\n")
	for _, c := range []string{"cold", "warm"} {
		var v []bench
		for name, b := range r.publish {
			if strings.HasPrefix(name, "BenchmarkPublishPeer/"+c+"/") {
				v = b
			}
		}
		if len(v) == 0 {
			continue
		}
		get := func(unit string) float64 {
			var f []float64
			for _, b := range v {
				f = append(f, b[unit])
			}
			return median(f)
		}
		p("| %s | %s | %s | %s | %s |\n", c, ms(get("ns/op")/1e9), num(get("ns/state"), 0), num(get("B/state"), 0), num(get("allocs/state"), 1))
	}

	if len(r.runtime) > 0 {
		p("\n### 1e. The runtime's part\n\n")
		p("The path and its floor again, from the smallest inputs to 50k states, under three settings of the Go runtime, " +
			"in two passes that alternate them: as everywhere else (two Ps, GOGC=100); with one P (`GOMAXPROCS=1`: no " +
			"goroutine hand-offs between threads, no GC worker beside the path, but no second core for the partitions' " +
			"batching or for marking either); and with `GOGC=400` (a GC cycle every 5x the live heap instead of 2x, and a " +
			"16 MB minimum instead of 4 MB). The product runs with the defaults; this table says how much of the cost at each " +
			"size is the runtime's rather than the path's code, and what the other settings would cost in memory. Both are " +
			"environment variables, so a user can set either as an app setting.\n\n")
		command("runtime")
		p("| input | variant | floor | path | path/floor | path per tick | path vs its 1k cost per state | peak RSS |\n|---|---|---|---|---|---|---|---|\n")
		for _, in := range []string{"small-2018-02-13", "synth-1k", "synth-10k", "global-2021-10-17", "synth-50k"} {
			for _, v := range runtimeVariants {
				b := r.runtime[v]
				path, floor := b["BenchmarkCPUPath/"+in+"/path"], b["BenchmarkCPUPath/"+in+"/floor"]
				if len(path) == 0 {
					continue
				}
				vs1k := ""
				if strings.HasPrefix(in, "synth-") {
					vs1k = x(pairedRatio(path, b["BenchmarkCPUPath/synth-1k/path"], "ns/state"))
				}
				p("| %s | %s | %s ns/state | %s ns/state | %s | %s | %s | %s MB |\n", in, v,
					num(benchMedian(floor, "ns/state"), 0), num(benchMedian(path, "ns/state"), 0),
					x(pairedRatio(path, floor, "ns/op")), ms(benchMedian(path, "ns/op")/1e9), vs1k,
					num(benchMedian(path, "peak-RSS-MB"), 0))
			}
		}
	}

	// 2. Whole tick.
	p("\n## 2. One whole tick, as processes\n\n")
	p("Each way fetches the recording from the same local replay and publishes it; rounds rotate the order. The handler " +
		"is the stripped build (`make build-linux`), `run --once`: config, connect and read the partitions, one tick, close. " +
		"Node (`bench/node/send.js tick`, `@azure/event-hubs` 6): `fetch`, `JSON.parse`, objects, `createBatch`/`tryAdd`/" +
		"`sendBatch` until done (the service round-robins the partitions). Python (`bench/python/send_like.py tick --offline`) " +
		"does the same with `requests` and `azure.eventhub` **but sends nothing**: Debian's azure.eventhub 5.11 always wraps its " +
		"socket in TLS (port 5671), so it cannot reach the plain-AMQP peer; it builds its `EventDataBatch`es with an explicit " +
		"1 MB `max_size_in_bytes` and stops there. (Put behind a TLS terminator on 127.0.0.1:5671 it gets through TLS but " +
		"then fails on the peer's AMQP open frame: its pyamqp indexes open fields that rhea leaves out.) So Python's row " +
		"lacks the connection, the link set-up and the sends that the other rows include. \"tick\" is the time the program " +
		"itself reports for fetch to sent (the handler's log line, the scripts' `total_s`).\n\n")
	command("tick-go")
	command("tick-node")
	command("tick-py")
	for _, rec := range []string{world, na} {
		t := r.tick[rec]
		if t == nil {
			continue
		}
		p("**%s** (%s events)\n\n", rec, num(med(t["go"], func(s sample) float64 { return float64(s.events) }), 0))
		p("| way | wall | CPU (user+sys) | peak RSS | tick | wall vs Go | CPU vs Go | RSS vs Go |\n|---|---|---|---|---|---|---|---|\n")
		for _, impl := range []struct{ key, name string }{
			{"go", "Go handler"},
			{"node", "Node, @azure/event-hubs"}, {"py", "Python, no connection, nothing sent"},
		} {
			s := t[impl.key]
			if len(s) == 0 {
				continue
			}
			vs := func(f func(sample) float64) string {
				if impl.key == "go" {
					return ""
				}
				return x(roundRatio(s, t["go"], f))
			}
			wall := func(s sample) float64 { return s.time.wall }
			cpuT := func(s sample) float64 { return s.time.cpu() }
			rss := func(s sample) float64 { return s.time.rssKB }
			p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", impl.name, ms(med(s, wall)), ms(med(s, cpuT)), mb(med(s, rss)),
				ms(med(s, tickSec)), vs(wall), vs(cpuT), vs(rss))
		}
		p("\n")
		if py := t["py"]; len(py) > 0 {
			p("Python's phases (median): %s.\n", phases(py, []string{"fetch_s", "decode_s", "encode_s", "batch_s"}))
		}
		if nd := t["node"]; len(nd) > 0 {
			p("Node's phases (median): %s.\n\n", phases(nd, []string{"client_s", "fetch_s", "decode_s", "encode_s", "batch_s", "send_s", "close_s"}))
		}
	}

	// 3. Cold start.
	p("## 3. Cold start and binary size\n\n")
	p("From exec until `GET /` on `FUNCTIONS_CUSTOMHANDLER_PORT` gets an answer, as the Functions host waits for it " +
		"(`bench/coldstart`; the cases run round-robin; SIGTERM after each answer). *hello* is a 10-line `net/http` " +
		"server (`bench/coldstart/hello`): the floor for any Go handler on this machine.\n\n")
	command("coldstart")
	p("| case | runs | median | p90 | min | median vs hello |\n|---|---|---|---|---|---|\n")
	for _, c := range r.cold {
		rel := ""
		if coldHello != nil && c.Label != coldHello.Label {
			rel = x(pairedMillis(c, *coldHello))
		}
		p("| %s | %d | %s ms | %s ms | %s ms | %s |\n", c.Label, c.Runs, num(c.MedianMS, 1), num(c.P90MS, 1), num(c.MinMS, 1), rel)
	}
	p("\n")
	command("size")
	command("size-stripped")
	p("| binary | size |\n|---|---|\n")
	for _, k := range []struct{ key, name string }{{"size handler", "handler (`go build -trimpath`, `make build`)"}, {"size handler-stripped", "handler (`-ldflags=\"-s -w\"`, CGO off, `make build-linux`)"}, {"size hello-stripped", "hello (stripped)"}} {
		if v, err := strconv.ParseFloat(r.versions[k.key], 64); err == nil {
			p("| %s | %s MB (%s bytes) |\n", k.name, num(v/1e6, 1), num(v, 0))
		}
	}
	p("\n")
	if len(r.inits) > 0 {
		p("Package initialisation (`GODEBUG=inittrace=1 ./handler help`, %d runs, medians): all `init`s end %s ms after "+
			"the process starts (the runtime's own clock), and take %s ms of clock between them. The slowest:\n\n",
			len(r.inits), num(median(r.initEnd), 1), num(median(sumEach(r.inits)), 1))
		command("inittrace")
		p("| package | init clock (median) |\n|---|---|\n")
		for _, pk := range topInits(r.inits, 8) {
			p("| %s | %s ms |\n", pk.name, num(pk.ms, 2))
		}
		p("\n")
	}

	// Profiles.
	p("## Profile of the CPU path (world recording)\n\n")
	command("profile")
	code(r.pprofTop)

	p("## Notes\n\n")
	p("- Go benchmarks run with `GOMAXPROCS=%s` (all cores), so the GC's background work runs on the second core; "+
		"Python and Node are single-threaded for this work.\n", r.gomaxprocs())
	p("- Raw results of this run: `%s` (not kept in the repo).\n", r.dir)
}

// cpuPathSec is one run's per-tick CPU path time: ns/op for Go, the median for the scripts.
func cpuPathSec(s sample) float64 {
	if s.bench != nil {
		return s.bench["ns/op"] / 1e9
	}
	return s.script.MedianS
}

func inLoopRSS(s sample) float64 {
	if s.bench != nil {
		return s.bench["peak-RSS-MB"]
	}
	return s.script.PeakRSSMB
}

func baseRSS(s sample) float64 {
	if s.bench != nil {
		if v, ok := s.bench["base-RSS-MB"]; ok {
			return v
		}
		return math.NaN()
	}
	return s.script.BaseRSSMB
}

func tickSec(s sample) float64 {
	if s.tickMS > 0 {
		return s.tickMS / 1e3
	}
	if v, ok := s.script.Seconds["total_s"]; ok {
		return v
	}
	return math.NaN()
}

func phases(s []sample, keys []string) string {
	var parts []string
	for _, k := range keys {
		v := med(s, func(s sample) float64 {
			if v, ok := s.script.Seconds[k]; ok {
				return v
			}
			return math.NaN()
		})
		parts = append(parts, strings.TrimSuffix(k, "_s")+" "+ms(v))
	}
	return strings.Join(parts, ", ")
}

// flatness compares the cost per state of each synthetic size with 1k's (per count, back to
// back, then the median over counts) and returns the largest over the smallest of those ratios
// (1k's own being 1), and the size furthest from 1k.
func (r *results) flatness(pattern string) (float64, string) {
	ref := r.gobench[fmt.Sprintf(pattern, synthOrder[0])]
	lo, hi, worst, dev := 1.0, 1.0, synthOrder[0], 0.0
	for _, in := range synthOrder[1:] {
		v := pairedRatio(r.gobench[fmt.Sprintf(pattern, in)], ref, "ns/state")
		if math.IsNaN(v) {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
		if d := math.Abs(math.Log(v)); d > dev {
			worst, dev = in, d
		}
	}
	return hi / lo, strings.TrimPrefix(worst, "synth-")
}

func (r *results) coldCase(sub string) *coldresult.Result {
	for i := range r.cold {
		if strings.Contains(r.cold[i].Label, sub) && !strings.Contains(r.cold[i].Label, "not stripped") {
			return &r.cold[i]
		}
	}
	return nil
}

func (r *results) coldTarget(what string, c, hello, file *coldresult.Result) target {
	t := target{what: what, goal: "<= 20 ms (median)"}
	if c == nil {
		t.measured = "not measured"
		return t
	}
	t.measured = fmt.Sprintf("%s ms median, p90 %s ms", num(c.MedianMS, 1), num(c.P90MS, 1))
	t.met = c.MedianMS <= 20
	t.miss = fmt.Sprintf("%s ms over (%s)", num(c.MedianMS-20, 1), x(c.MedianMS/20))
	if hello == nil {
		return t
	}
	t.measured += fmt.Sprintf("; hello floor %s ms", num(hello.MedianMS, 1))
	initEnd, initSum := median(r.initEnd), median(sumEach(r.inits))
	t.finding = fmt.Sprintf("On this machine a 10-line net/http server already needs %s ms median from exec to its "+
		"first answer, and this case takes %s as long (paired runs): process start-up is slow here, and page faults are "+
		"expensive in this VM. The handler's package inits end %s ms after the process starts (%s ms of init clock; the "+
		"slowest are in the init table).", num(hello.MedianMS, 1), x(pairedMillis(*c, *hello)), num(initEnd, 1), num(initSum, 1))
	if file != nil {
		if d := median(pairedDiff(*c, *file)); d >= 0.05 {
			t.finding += fmt.Sprintf(" The eventhub sink costs %s ms more than the file sink (median of paired runs).", num(d, 1))
		} else {
			t.finding += fmt.Sprintf(" The eventhub sink costs no more than the file sink (%s ms, median of paired runs): "+
				"it connects after the first answer.", num(math.Round(d*10)/10+0, 1)) // +0 turns -0 into 0
		}
	}
	return t
}

// pairedDiff is c-ref per run, run i of each made back to back (round-robin).
func pairedDiff(c, ref coldresult.Result) []float64 {
	var v []float64
	for i := range min(len(c.Millis), len(ref.Millis)) {
		v = append(v, c.Millis[i]-ref.Millis[i])
	}
	return v
}

// stepShares lists the cum% of the path's steps in a CPU profile.
func stepShares(m map[string]float64) string {
	var parts []string
	for _, f := range []struct{ label, fn string }{
		{"opensky.Decode", "opensky.Decode"}, {"flight.Transform", "flight.Transform"}, {"flight.Encode", "flight.Encode"},
		{"Sink.Publish's own goroutine (partition assignment)", "eventhub.(*Sink).Publish"},
		{"its sendPartition goroutines (SDK batching)", "eventhub.(*Sink).sendPartition"},
	} {
		v := cumOf(m, "/internal/"+f.fn)
		if math.IsNaN(v) { // too few samples: pprof dropped the node
			parts = append(parts, f.label+" <1%")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s%%", f.label, num(v, 0)))
	}
	return strings.Join(parts, ", ")
}

// pairedMillis is the median over runs of c/ref, run i of each made back to back (round-robin).
func pairedMillis(c, ref coldresult.Result) float64 {
	var v []float64
	for i := range min(len(c.Millis), len(ref.Millis)) {
		v = append(v, c.Millis[i]/ref.Millis[i])
	}
	return median(v)
}

func sumEach(ms []map[string]float64) []float64 {
	out := make([]float64, len(ms))
	for i, m := range ms {
		for _, v := range m {
			out[i] += v
		}
	}
	return out
}

type pkgInit struct {
	name string
	ms   float64
}

func topInits(runs []map[string]float64, n int) []pkgInit {
	all := map[string][]float64{}
	for _, m := range runs {
		for k, v := range m {
			all[k] = append(all[k], v)
		}
	}
	var out []pkgInit
	for k, v := range all {
		out = append(out, pkgInit{k, median(v)})
	}
	slices.SortFunc(out, func(a, b pkgInit) int { return cmp.Or(cmp.Compare(b.ms, a.ms), strings.Compare(a.name, b.name)) })
	return out[:min(n, len(out))]
}

func (r *results) gomaxprocs() string {
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		return v
	}
	return strconv.Itoa(runtime.NumCPU())
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return num(kb/1024/1024, 1) + " GiB"
		}
	}
	return "unknown"
}
