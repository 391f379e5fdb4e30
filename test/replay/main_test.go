package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The stand-in serves the file as recorded, gzip when asked, with a credits header, and stops
// when its context ends.
func TestReplay(t *testing.T) {
	body := `{"time":1,"states":null}`
	file := filepath.Join(t.TempDir(), "states.json")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-file", file}, strings.NewReader(""), pw, io.Discard) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line %q, want listening on http://127.0.0.1:PORT", line)
	}
	go io.Copy(io.Discard, pr)

	for _, gz := range []bool{false, true} {
		req, _ := http.NewRequest("GET", base+"/api/states/all", nil)
		req.Header.Set("Accept-Encoding", map[bool]string{false: "identity", true: "gzip"}[gz])
		resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = resp.Body
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != gz {
			t.Fatalf("gzip asked %v, answered %v", gz, got)
		}
		if gz {
			if r, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := io.ReadAll(r)
		resp.Body.Close()
		if string(got) != body || resp.Header.Get("X-Rate-Limit-Remaining") == "" {
			t.Errorf("gzip %v: body %q, X-Rate-Limit-Remaining %q", gz, got, resp.Header.Get("X-Rate-Limit-Remaining"))
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after its context ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("replay did not stop within 10s of its context ending")
	}
}
