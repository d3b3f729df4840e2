package record_test

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/switchboard-cc/switchboard/ivr/record"
)

// A call's two directions: the caller's frames arrive every 20 ms and
// drive the timeline; the IVR's prompt frames are recorded beside the
// caller frames that follow them.
func Example() {
	dir, _ := os.MkdirTemp("", "recordings")
	defer os.RemoveAll(dir)
	rec, err := record.New(record.Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		panic(err)
	}
	r, err := rec.Start("0190f6c2-7b1e-7c3a-9d4e-2f6a8b1c3d5e")
	if err != nil {
		panic(err)
	}
	frame := make([]float32, 160)
	for k := range 50 { // one second
		if k < 10 {
			r.IVR(frame) // a 200 ms prompt
		}
		r.Caller(frame)
	}
	info, err := r.Close()
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Seconds, "s,", info.Bytes, "bytes")
	// Output: 1 s, 32044 bytes
}
