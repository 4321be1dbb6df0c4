package bench

import "testing"

func TestPerRunP50IsTheMedianAsOnTheJavaSide(t *testing.T) {
	ms := int64(1_000_000)
	even := PerRun("f", []int64{4 * ms, 1 * ms, 3 * ms, 2 * ms}, nil)
	if got := even["p50_ms"]; got != 2.5 {
		t.Fatalf("p50_ms of 1, 2, 3, 4 ms = %v, want 2.5 (the mean of the middle two)", got)
	}
	odd := PerRun("f", []int64{3 * ms, 1 * ms, 2 * ms}, nil)
	if got := odd["p50_ms"]; got != 2.0 {
		t.Fatalf("p50_ms of 1, 2, 3 ms = %v, want 2", got)
	}
}
