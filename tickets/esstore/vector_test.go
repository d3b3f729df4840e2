package esstore_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/esstore"
)

// unit returns a 4-dimensional unit vector pointing mostly along axis i.
func unit(i int, tilt float32) []float32 {
	v := []float32{tilt, tilt, tilt, tilt}
	v[i] = 1
	var n float32
	for _, x := range v {
		n += x * x
	}
	n = float32(math.Sqrt(float64(n)))
	for j := range v {
		v[j] /= n
	}
	return v
}

func TestNearest(t *testing.T) {
	cfg := esstore.Config{EmbeddingDims: 4}
	s, c := newStore(t, cfg)
	ctx := context.Background()
	withVec := func(v []float32, label, source string) func(*tickets.Ticket) {
		return func(t *tickets.Ticket) {
			t.Embedding, t.EmbeddingModel = v, "test.1"
			if label != "" {
				t.Category = &tickets.Category{Label: label, Source: source}
			}
		}
	}
	seed(t, s, c,
		ticket("a", 0, withVec(unit(0, 0), "logistics", tickets.SourceAuto)),
		ticket("b", 1, withVec(unit(0, 0.1), "logistics", tickets.SourceAgent)),
		ticket("c", 2, withVec(unit(0, 0.3), "returns_refunds", tickets.SourceImport)),
		ticket("d", 3, withVec(unit(2, 0), "billing_payment", tickets.SourceAgent)),
		ticket("e", 4, withVec([]float32{1, 0}, "", "")), // wrong dimension: stored without it
		ticket("f", 5),
	)

	t.Run("embedding round trip", func(t *testing.T) {
		got, _, err := s.Get(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Embedding) != 4 || got.EmbeddingModel != "test.1" {
			t.Fatalf("Get: embedding %v model %q, want 4 dims of test.1", got.Embedding, got.EmbeddingModel)
		}
		e, _, err := s.Get(ctx, "e")
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Embedding) != 0 {
			t.Fatalf("a 2-dim embedding was stored in a 4-dim index: %v", e.Embedding)
		}
		page, err := s.Search(ctx, tickets.Query{Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range page.Tickets {
			if tk.Embedding != nil {
				t.Fatalf("Search returned the embedding of %s", tk.ID)
			}
		}
	})

	tests := []struct {
		name string
		vec  []float32
		k    int
		f    tickets.NearestFilter
		want []string
	}{
		{"all by similarity", unit(0, 0), 3, tickets.NearestFilter{}, []string{"a", "b", "c"}},
		{"exclude the ticket itself", unit(0, 0), 2, tickets.NearestFilter{Exclude: "a"}, []string{"b", "c"}},
		{"labelled by people only", unit(0, 0), 2, tickets.NearestFilter{Labelled: true}, []string{"b", "c"}},
		{"other direction", unit(2, 0), 1, tickets.NearestFilter{}, []string{"d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Nearest(ctx, tc.vec, tc.k, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, n := range got {
				ids = append(ids, n.TicketID)
			}
			if len(ids) != len(tc.want) {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
			for i := range ids {
				if ids[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", ids, tc.want)
				}
			}
			if got[0].Score < 0.9 || got[0].Score > 1.0001 {
				t.Errorf("top score %v, want the cosine (about 1)", got[0].Score)
			}
		})
	}

	t.Run("bad input", func(t *testing.T) {
		var v *tickets.ValidationError
		if _, err := s.Nearest(ctx, []float32{1, 0}, 3, tickets.NearestFilter{}); !errors.As(err, &v) {
			t.Errorf("wrong dimension: %v, want a ValidationError", err)
		}
		if _, err := s.Nearest(ctx, unit(0, 0), 0, tickets.NearestFilter{}); !errors.As(err, &v) {
			t.Errorf("k 0: %v, want a ValidationError", err)
		}
		none, _ := newStore(t, esstore.Config{})
		if _, err := none.Nearest(ctx, unit(0, 0), 3, tickets.NearestFilter{}); !errors.Is(err, tickets.ErrUnavailable) {
			t.Errorf("no vectors mapped: %v, want ErrUnavailable", err)
		}
	})
}

func TestModelAccuracyStats(t *testing.T) {
	s, c := newStore(t, esstore.Config{})
	yes, no := true, false
	labelled := func(ok *bool) func(*tickets.Ticket) {
		return func(t *tickets.Ticket) {
			t.Category = &tickets.Category{Label: "logistics", Source: tickets.SourceAgent, ModelCorrect: ok,
				Predicted: &tickets.Prediction{Label: "x", ModelVersion: "v1"}}
		}
	}
	seed(t, s, c,
		ticket("1", 0, labelled(&yes)), ticket("2", 1, labelled(&yes)),
		ticket("3", 2, labelled(&yes)), ticket("4", 3, labelled(&no)),
		ticket("5", 4, labelled(nil)), ticket("6", 5),
	)
	st, err := s.Stats(context.Background(), tickets.StatsQuery{From: t0, To: t0.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	want := tickets.ModelAccuracy{Labelled: 4, Correct: 3, Accuracy: 0.75}
	if st.CategoryModel != want {
		t.Fatalf("CategoryModel = %+v, want %+v", st.CategoryModel, want)
	}
}

func TestLabelled(t *testing.T) {
	s, c := newStore(t, esstore.Config{})
	cat := func(src string) func(*tickets.Ticket) {
		return func(t *tickets.Ticket) { t.Category = &tickets.Category{Label: "logistics", Source: src} }
	}
	var ts []*tickets.Ticket
	for i := range 1203 { // more than two pages
		src := []string{tickets.SourceAgent, tickets.SourceImport, tickets.SourceAuto}[i%3]
		ts = append(ts, ticket(fmt.Sprintf("t%04d", i), time.Duration(i)*time.Minute, cat(src)))
	}
	ts = append(ts, ticket("unlabelled", 0))
	seed(t, s, c, ts...)
	ctx := context.Background()
	tests := []struct {
		name     string
		from, to time.Time
		sources  []string
		want     int
	}{
		{"agent and import, all time", time.Time{}, time.Time{}, []string{"agent", "import"}, 802},
		{"agent only", time.Time{}, time.Time{}, []string{"agent"}, 401},
		{"first 300 minutes", t0, t0.Add(300 * time.Minute), []string{"agent", "import", "auto"}, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var last time.Time
			n, err := s.Labelled(ctx, tc.from, tc.to, tc.sources, func(tk *tickets.Ticket) error {
				if tk.CreatedAt.Before(last) {
					t.Fatalf("%s out of order", tk.ID)
				}
				last = tk.CreatedAt
				if tk.Category == nil || !slices.Contains(tc.sources, tk.Category.Source) {
					t.Fatalf("%s: unexpected category %+v", tk.ID, tk.Category)
				}
				return nil
			})
			if err != nil || n != tc.want {
				t.Fatalf("Labelled = %d, %v; want %d", n, err, tc.want)
			}
		})
	}
	if _, err := s.Labelled(ctx, time.Time{}, time.Time{}, nil, func(*tickets.Ticket) error { return nil }); err == nil {
		t.Error("no sources: want an error")
	}
}
