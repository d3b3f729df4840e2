package incident

import "math"

// ARI is the adjusted Rand index of a clustering against the truth: 1 for
// the same partition, about 0 for a random one. Both slices give one label
// per item, in the same order.
func ARI(truth, pred []int) float64 {
	n := len(truth)
	if n != len(pred) || n < 2 {
		return math.NaN()
	}
	table := map[[2]int]int{}
	rows, cols := map[int]int{}, map[int]int{}
	for i := range truth {
		table[[2]int{truth[i], pred[i]}]++
		rows[truth[i]]++
		cols[pred[i]]++
	}
	c2 := func(x int) float64 { return float64(x) * float64(x-1) / 2 }
	var sumIJ, sumA, sumB float64
	for _, v := range table {
		sumIJ += c2(v)
	}
	for _, v := range rows {
		sumA += c2(v)
	}
	for _, v := range cols {
		sumB += c2(v)
	}
	expected := sumA * sumB / c2(n)
	maxIdx := (sumA + sumB) / 2
	if maxIdx == expected {
		return 1 // both partitions trivial and equal
	}
	return (sumIJ - expected) / (maxIdx - expected)
}

// NMI is the normalised mutual information (arithmetic-mean
// normalisation) of a clustering against the truth, in [0, 1].
func NMI(truth, pred []int) float64 {
	n := float64(len(truth))
	if len(truth) != len(pred) || n == 0 {
		return math.NaN()
	}
	joint := map[[2]int]float64{}
	pt, pp := map[int]float64{}, map[int]float64{}
	for i := range truth {
		joint[[2]int{truth[i], pred[i]}]++
		pt[truth[i]]++
		pp[pred[i]]++
	}
	var mi float64
	for k, v := range joint {
		mi += v / n * math.Log(v*n/(pt[k[0]]*pp[k[1]]))
	}
	h := func(m map[int]float64) float64 {
		var e float64
		for _, v := range m {
			e -= v / n * math.Log(v/n)
		}
		return e
	}
	ht, hp := h(pt), h(pp)
	if ht+hp == 0 {
		return 1
	}
	return 2 * mi / (ht + hp)
}
