package auth

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The timing equality between unknown and known clients holds only while
// the dummy hash costs what real secrets cost.
func TestDummyHashCost(t *testing.T) {
	cost, err := bcrypt.Cost([]byte(dummyHash))
	if err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("dummy hash cost = %d, %v; want %d", cost, err, bcrypt.DefaultCost)
	}
}
