package tokenize_test

import (
	"fmt"

	"github.com/switchboard-cc/switchboard/nlu/tokenize"
)

func ExampleTokenizer_Encode() {
	tk, err := tokenize.Load("testdata/minilm.tokenizer.json", 8)
	if err != nil {
		panic(err)
	}
	for _, text := range []string{"", "Where is my ORDER?", "我的订单 where is my order?"} {
		ids, err := tk.Encode(text)
		fmt.Println(ids, err)
	}
	// Output:
	// [101 102] <nil>
	// [101 2073 2003 2026 2344 1029 102] <nil>
	// [101 1855 1916 100 100 2073 2003 102] <nil>
}
