package agents

import "time"

// SetClock replaces d's clock; call it before d is used.
func SetClock(d *Directory, now func() time.Time) { d.now = now }
