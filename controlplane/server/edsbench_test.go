package server

import (
	"fmt"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/sim/gen"
)

// BenchmarkEndpointChange connects 1,000 delta-ADS clients (EDS and RDS)
// to a server loaded with a corpus and, once all have the full set, changes
// one ClusterLoadAssignment per iteration, waiting each time until every
// client has it. It reports the 50th and 99th percentiles of the delay from
// UpdateEndpoints to a client holding the change, over all clients and
// iterations (ms-p50, ms-p99), and of the delay until the last client has
// it, over iterations (ms-last-p50, ms-last-p99); BenchmarkFanOut measures
// one change only. Run it with -benchtime 50x or more.
func BenchmarkEndpointChange(b *testing.B) {
	for _, c := range []struct {
		name string
		o    gen.Options
	}{{"S1k-1000clients", gen.S1k()}, {"S10k-1000clients", gen.S10k()}} {
		b.Run(c.name, func(b *testing.B) {
			res := corpusResources(b, c.o)
			r := newRig(b, res)
			defer r.close()
			const n = 1000
			want := len(res.Endpoints) + len(res.Routes)
			base := res.Endpoints[len(res.Endpoints)/2]
			watched := map[string]bool{base.GetClusterName(): true}
			ready := make(chan struct{}, n)
			clients := make([]*deltaClient, n)
			for i := range clients {
				conn := r.dial(b, lightCodec{watched: watched})
				clients[i] = &deltaClient{watched: watched, arrived: map[string]time.Time{}}
				go func(c *deltaClient) {
					_ = c.run(r.ctx, conn, []string{resourcev3.EndpointType, resourcev3.RouteType}, ready, want)
				}(clients[i])
			}
			waitReady(b, ready, n, 180*time.Second, func() string { return incomplete(clients, want) })
			var delays, lasts []float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cla := proto.Clone(base).(*endpointv3.ClusterLoadAssignment)
				cla.Endpoints[0].LoadBalancingWeight = wrapperspb.UInt32(uint32(i%2 + 1)) // a new content each time
				t0 := time.Now()
				if err := r.s.UpdateEndpoints(r.ctx, []*endpointv3.ClusterLoadAssignment{cla}); err != nil {
					b.Fatal(err)
				}
				d := arrivalDelays(b, clients, base.GetClusterName(), t0)
				delays = append(delays, d...)
				lasts = append(lasts, percentile(d, 100))
			}
			b.StopTimer()
			b.ReportMetric(percentile(delays, 50), "ms-p50")
			b.ReportMetric(percentile(delays, 99), "ms-p99")
			b.ReportMetric(percentile(lasts, 50), "ms-last-p50")
			b.ReportMetric(percentile(lasts, 99), "ms-last-p99")
		})
	}
}

// arrivalDelays waits until every client has name after t0 and returns
// each one's delay in milliseconds.
func arrivalDelays[C arrivals](b *testing.B, clients []C, name string, t0 time.Time) []float64 {
	deadline := time.Now().Add(60 * time.Second)
	delays := make([]float64, 0, len(clients))
	for _, c := range clients {
		for {
			if at, ok := c.at(name); ok && !at.Before(t0) {
				delays = append(delays, float64(at.Sub(t0).Microseconds())/1000)
				break
			}
			if time.Now().After(deadline) {
				b.Fatal(fmt.Sprintf("a client never received %s", name))
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	return delays
}
