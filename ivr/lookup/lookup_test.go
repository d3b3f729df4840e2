package lookup

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestDo(t *testing.T) {
	var gotPath, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.EscapedPath(), r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/orders/1234567890":
			_ = json.NewEncoder(w).Encode(map[string]any{
				"status_text": "运输中", "delivery": map[string]any{"eta_date": "11月26日", "days": 2.0},
				"items": []any{map[string]any{"name": "kettle"}}, "paid": true,
			})
		case "/orders/slow":
			time.Sleep(200 * time.Millisecond)
		case "/orders/bad":
			_, _ = w.Write([]byte("<html>"))
		case "/orders/boom":
			w.WriteHeader(500)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := New(map[string]System{"orders": {URL: srv.URL + "/", Headers: map[string]string{"Authorization": "Bearer k"}}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]string{"state": "status_text", "eta": "delivery.eta_date", "days": "delivery.days",
		"item": "items.0.name", "paid": "paid", "missing": "nope.x"}
	tests := []struct {
		name    string
		params  map[string]string
		path    string
		timeout time.Duration
		want    map[string]string
		wantErr error
		errText bool
	}{
		{name: "fields", path: "/orders/{no}", params: map[string]string{"no": "1234567890"},
			want: map[string]string{"state": "运输中", "eta": "11月26日", "days": "2", "item": "kettle", "paid": "true"}},
		{name: "not found", path: "/orders/{no}", params: map[string]string{"no": "0000000000"}, wantErr: ErrNotFound},
		{name: "escaped", path: "/orders/{no}", params: map[string]string{"no": "../admin"}, wantErr: ErrNotFound},
		{name: "timeout", path: "/orders/slow", timeout: 50 * time.Millisecond, errText: true},
		{name: "not json", path: "/orders/bad", errText: true},
		{name: "server error", path: "/orders/boom", errText: true},
		{name: "no param", path: "/orders/{no}", errText: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Do(context.Background(), Request{System: "orders", Path: tt.path, Params: tt.params, Outputs: outs, Timeout: tt.timeout})
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			case tt.errText:
				if err == nil {
					t.Fatalf("no error, got %v", got)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if gotAuth != "Bearer k" {
				t.Errorf("Authorization = %q", gotAuth)
			}
		})
	}
	if gotPath == "/admin" {
		t.Error("path parameter escaped the path")
	}
	if _, err := c.Do(context.Background(), Request{System: "crm", Path: "/x"}); !errors.Is(err, ErrUnknownSystem) {
		t.Errorf("unknown system: %v", err)
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "orders.local", "http://"} {
		if _, err := New(map[string]System{"orders": {URL: u}}, nil, nil); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}
