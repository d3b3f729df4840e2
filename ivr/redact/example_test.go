package redact_test

import (
	"fmt"

	"github.com/switchboard-cc/switchboard/ivr/redact"
)

func ExampleRedactor_Redact() {
	r, err := redact.New(redact.Config{}) // all kinds, StylePartial
	if err != nil {
		panic(err)
	}
	out, findings := r.Redact("电话138-0013-8000，邮箱是zhang.san@example.com谢谢，号码幺三八零零幺三八零零零")
	fmt.Println(out)
	for _, f := range findings {
		fmt.Println(f.Kind, f.Start, f.End, f.Hint)
	}

	tok, _ := redact.New(redact.Config{Style: redact.StyleToken, Kinds: []redact.Kind{redact.KindPhone}})
	out, _ = tok.Redact("call +44 20 7946 0958, order 20261124000123")
	fmt.Println(out)
	// Output:
	// 电话138-****-8000，邮箱是z***@example.com谢谢，号码幺三八****八零零零
	// phone 6 19 8000
	// email 31 52 example.com
	// phone 67 100 8000
	// call [PHONE], order 20261124000123
}
