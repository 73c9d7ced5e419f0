package tunnel

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestSplitBatchLine(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   \t ", nil},
		{"# a comment", nil},
		{"   # indented comment", nil},
		{"#", nil},
		{"link add gre1 type gre", []string{"link", "add", "gre1", "type", "gre"}},
		{"  route\tadd   10.0.0.0/8 dev gre1  \r", []string{"route", "add", "10.0.0.0/8", "dev", "gre1"}},
		{"route add 10.0.0.0/8 dev gre1 # the lab", []string{"route", "add", "10.0.0.0/8", "dev", "gre1"}},
		{"route add 10.0.0.0/8 dev gre1 #", []string{"route", "add", "10.0.0.0/8", "dev", "gre1"}},
		{"link add a#b type gre", []string{"link", "add", "a#b", "type", "gre"}}, // # inside a word
		{`link add "a#b" type gre`, []string{"link", "add", "a#b", "type", "gre"}},
		{`link add \#x`, []string{"link", "add", "#x"}},
		{`mirror add "dev" "eth 1"`, []string{"mirror", "add", "dev", "eth 1"}},
		{`a "" b`, []string{"a", "", "b"}},
		{`a ''`, []string{"a", ""}},
		{`a 'single "quoted" # not a comment'`, []string{"a", `single "quoted" # not a comment`}},
		{`a "double 'quoted'"`, []string{"a", "double 'quoted'"}},
		{`a "with \" quote"`, []string{"a", `with " quote`}},
		{`a "back\\slash"`, []string{"a", `back\slash`}},
		{`a 'back\slash'`, []string{"a", `back\slash`}}, // literal in single quotes
		{`a b\ c`, []string{"a", "b c"}},
		{`a \"b\"`, []string{"a", `"b"`}},
		{`a \\`, []string{"a", `\`}},
		{`pre"fix mid"post`, []string{"prefix midpost"}},
		{`x"y"'z'`, []string{"xyz"}},
		{"a\\\tb", []string{"a\tb"}},
	}
	for _, tt := range tests {
		got, err := SplitBatchLine(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) && len(got)+len(tt.want) > 0 {
			t.Errorf("SplitBatchLine(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	errs := []struct {
		in   string
		want string
	}{
		{`a "b`, `unterminated double quote: the " at column 3 has no closing "`},
		{`a 'b`, `unterminated single quote: the ' at column 3 has no closing '`},
		{`a "b\"`, "unterminated double quote"},
		{`a \`, "a backslash ends the line at column 3"},
	}
	for _, tt := range errs {
		got, err := SplitBatchLine(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SplitBatchLine(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.want)
		}
	}
}

type batchLine struct {
	n    int
	text string
}

func readBatch(t *testing.T, r io.Reader) ([]batchLine, error) {
	t.Helper()
	br := NewBatchReader(r)
	var out []batchLine
	for {
		n, text, err := br.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, batchLine{n, text})
	}
}

func TestBatchReader(t *testing.T) {
	tests := []struct {
		in   string
		want []batchLine
	}{
		{"", nil},
		{"a\n", []batchLine{{1, "a"}}},
		{"a", []batchLine{{1, "a"}}}, // no final newline
		{"a\nb\n\nc", []batchLine{{1, "a"}, {2, "b"}, {3, ""}, {4, "c"}}},
		{"a\r\nb\r\n", []batchLine{{1, "a"}, {2, "b"}}},
		{"link add gre1 \\\n  type gre\nx\n", []batchLine{{1, "link add gre1   type gre"}, {3, "x"}}},
		{"a\\\nb\\\nc\nd", []batchLine{{1, "abc"}, {4, "d"}}},
		{"a\\\r\nb\r\n", []batchLine{{1, "ab"}}},
		{"a \\\\\nb", []batchLine{{1, `a \\`}, {2, "b"}}}, // an escaped backslash does not join
		{"a \\\\\\\nb", []batchLine{{1, `a \\b`}}},
	}
	for _, tt := range tests {
		got, err := readBatch(t, strings.NewReader(tt.in))
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("reading %q: %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}

	got, err := readBatch(t, strings.NewReader("a\nb \\\n"))
	if want := []batchLine{{1, "a"}}; err == nil || !strings.Contains(err.Error(), "line 2 ends with a backslash, but no line follows it") || !reflect.DeepEqual(got, want) {
		t.Errorf("a continuation at the end: %v, %v", got, err)
	}

	long := "a\n" + strings.Repeat("x", maxBatchLine+1) + "\nb\n"
	got, err = readBatch(t, strings.NewReader(long))
	if err == nil || !strings.Contains(err.Error(), "line 2 is longer than") || len(got) != 1 {
		t.Errorf("a line too long: %d lines, %v", len(got), err)
	}

	boom := errors.New("boom")
	_, err = readBatch(t, iotest.ErrReader(boom))
	if !errors.Is(err, boom) {
		t.Errorf("a read error: %v, want boom", err)
	}
}

func BenchmarkSplitBatchLine(b *testing.B) {
	line := "route add 10.1.0.0/16 encap ip id 42 dst 198.51.100.7 ttl 64 dev xgre"
	for b.Loop() {
		if _, err := SplitBatchLine(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRouteAdd(b *testing.B) {
	words := strings.Fields("10.1.0.0/16 encap ip id 42 dst 198.51.100.7 ttl 64 dev xgre")
	for b.Loop() {
		if _, err := ParseRouteAdd(words); err != nil {
			b.Fatal(err)
		}
	}
}
