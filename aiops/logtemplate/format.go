package logtemplate

import (
	"fmt"
	"regexp"
	"strings"
)

// Format extracts the message from a raw line with a header, given a
// logpai-style description such as
//
//	<Date> <Time> <Pid> <Level> <Component>: <Content>
//
// As in logpai's parsers, each <Field> matches lazily, runs of spaces
// match any white space, and the text between fields is a regular
// expression (so `\[<Time>\]` and optional parts like `(\[<PID>\])?`
// work). One field must be <Content>.
type Format struct {
	re      *regexp.Regexp
	content int
	fields  []string
}

var fieldRE = regexp.MustCompile(`<[^<>]+>`)

// ParseFormat compiles a logpai-style format string.
func ParseFormat(f string) (*Format, error) {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	var fields []string
	content := -1
	for _, loc := range fieldRE.FindAllStringIndex(f, -1) {
		b.WriteString(spaces.ReplaceAllString(f[last:loc[0]], `\s+`))
		name := f[loc[0]+1 : loc[1]-1]
		fields = append(fields, name)
		if name == "Content" && content < 0 {
			content = len(fields) - 1
		}
		// Named groups: literal parts may hold groups of their own.
		fmt.Fprintf(&b, "(?P<f%d>.*?)", len(fields)-1)
		last = loc[1]
	}
	b.WriteString(spaces.ReplaceAllString(f[last:], `\s+`))
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("logtemplate: format %q: %w", f, err)
	}
	if content < 0 {
		return nil, fmt.Errorf("logtemplate: format %q: no <Content> field", f)
	}
	return &Format{re: re, fields: fields, content: re.SubexpIndex(fmt.Sprintf("f%d", content))}, nil
}

var spaces = regexp.MustCompile(` +`)

// Content returns the message part of line; ok is false when the line
// does not have the header the format describes.
func (f *Format) Content(line string) (content string, ok bool) {
	m := f.re.FindStringSubmatchIndex(line)
	if m == nil || m[2*f.content] < 0 {
		return line, false
	}
	return line[m[2*f.content]:m[2*f.content+1]], true
}

// Fields lists the header field names, in order.
func (f *Format) Fields() []string { return append([]string(nil), f.fields...) }
