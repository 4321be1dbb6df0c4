/**
 * JMH benchmarks of the goplugin4j host against real Go plugins, and the command-line driver
 * ({@link dev.goplugin4j.benchmarks.BenchMain}) that runs them and prints one JSON object per
 * figure, as the Go drivers in {@code benchmarks/src/main/go} do for go-plugin's own host.
 * {@code scripts/bench.sh} runs both sides and prints their ratios. Not published.
 */
package dev.goplugin4j.benchmarks;
