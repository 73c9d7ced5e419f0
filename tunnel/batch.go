package tunnel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// BatchReader reads the commands of a batch file (xtunnel -batch FILE),
// as ip -batch does: one command a line, where a line that ends with a
// backslash goes on on the next one. Split each with SplitBatchLine.
type BatchReader struct {
	sc   *bufio.Scanner
	line int // physical lines read so far
}

// maxBatchLine is the longest line a batch file may have.
const maxBatchLine = 1 << 20

// NewBatchReader returns a BatchReader of r.
func NewBatchReader(r io.Reader) *BatchReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxBatchLine)
	return &BatchReader{sc: sc}
}

// Next returns the next command line, its continuation lines joined (the
// backslash and the line break dropped), and the number of the line it
// starts on, from 1. At the end it returns io.EOF.
func (b *BatchReader) Next() (line int, text string, err error) {
	var joined strings.Builder
	start := 0
	for b.sc.Scan() {
		b.line++
		if start == 0 {
			start = b.line
		}
		t := strings.TrimSuffix(b.sc.Text(), "\r")
		if !continues(t) {
			if joined.Len() == 0 {
				return start, t, nil
			}
			joined.WriteString(t)
			return start, joined.String(), nil
		}
		joined.WriteString(t[:len(t)-1])
	}
	if err := b.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return b.line + 1, "", fmt.Errorf("line %d is longer than %d bytes", b.line+1, maxBatchLine)
		}
		return b.line, "", err
	}
	if start != 0 {
		return start, "", fmt.Errorf("line %d ends with a backslash, but no line follows it", b.line)
	}
	return 0, "", io.EOF
}

// continues reports whether t ends with a backslash that is not itself
// escaped: the command goes on on the next line.
func continues(t string) bool {
	n := len(t) - len(strings.TrimRight(t, `\`))
	return n%2 == 1
}

// SplitBatchLine splits one command line of a batch file into words, as
// iproute2's makeargs does, with shell-like quoting: words are separated
// by white space; double or single quotes group a word (which may be
// empty), a backslash takes the next character literally (outside single
// quotes), and a # that starts a word begins a comment. A blank or
// comment-only line gives no words.
func SplitBatchLine(s string) ([]string, error) {
	if !strings.ContainsAny(s, "\"'\\#") {
		return strings.Fields(s), nil // the common case, fast
	}
	var (
		words []string
		w     strings.Builder
		in    bool // a word is being read (it may be empty: "")
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		case c == '#' && !in:
			return words, nil
		case c == '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("a backslash ends the line at column %d: nothing follows it to escape", i+1)
			}
			i++
			w.WriteByte(s[i])
			in = true
		case c == '"' || c == '\'':
			end, err := quoted(s, i, &w)
			if err != nil {
				return nil, err
			}
			i = end
			in = true
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words, nil
}

// quoted copies the quoted text that starts with the quote at s[open]
// into w and returns the index of the closing quote. In double quotes a
// backslash takes the next character literally; in single quotes it is
// a backslash.
func quoted(s string, open int, w *strings.Builder) (int, error) {
	q := s[open]
	for i := open + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == q:
			return i, nil
		case c == '\\' && q == '"' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
		default:
			w.WriteByte(c)
		}
	}
	name := "double"
	if q == '\'' {
		name = "single"
	}
	return 0, fmt.Errorf("unterminated %s quote: the %c at column %d has no closing %c", name, q, open+1, q)
}
