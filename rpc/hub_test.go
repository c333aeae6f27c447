package rpc

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

func finalizedAt(h uint64) FinalizedEvent { return FinalizedEvent{Height: h} }

// TestHubLagged: a full queue cuts the subscription off once, with
// ResumeFromHeight the first height it did not get, and removes it.
func TestHubLagged(t *testing.T) {
	h := NewHub(Config{SubscriberBuffer: 4})
	s := h.newSub(TopicFinalized, Filter{})
	h.add(s)
	for height := uint64(1); height <= 10; height++ {
		if err := h.Publish(TopicFinalized, finalizedAt(height)); err != nil {
			t.Fatal(err)
		}
	}
	evs, lagged, resume := s.take(nil)
	if len(evs) != 4 || evs[0].height != 1 || evs[3].height != 4 || !lagged || resume != 5 {
		t.Fatalf("got %d events, lagged %v, resume %d; want heights 1-4, lagged, resume 5", len(evs), lagged, resume)
	}
	if n := h.Subscribers(TopicFinalized); n != 0 {
		t.Fatalf("got %d subscribers, want 0", n)
	}
	if st := h.Stats(); st.Lagged != 1 || st.Published != 10 {
		t.Fatalf("stats: got %+v, want 1 lagged of 10 published", st)
	}

	// A pending tx (no height) resumes from the topic's latest height.
	s = h.newSub(TopicTxs, Filter{})
	h.add(s)
	for i := range 5 {
		ev := TxEvent{TxResult: TxResult{Status: TxPending}}
		if i == 1 {
			height := uint64(8)
			ev = TxEvent{TxResult: TxResult{Status: TxFinal, Height: &height}}
		}
		if err := h.Publish(TopicTxs, ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, lagged, resume := s.take(nil); !lagged || resume != 8 {
		t.Fatalf("txs: got lagged %v, resume %d; want lagged from 8", lagged, resume)
	}
}

// TestHubPublishNeverBlocks: subscriptions nobody drains do not slow
// Publish.
func TestHubPublishNeverBlocks(t *testing.T) {
	h := NewHub(Config{SubscriberBuffer: 8})
	for range 100 {
		h.add(h.newSub(TopicFinalized, Filter{}))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for height := uint64(1); height <= 10_000; height++ {
			if err := h.Publish(TopicFinalized, finalizedAt(height)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked")
	}
	if st := h.Stats(); st.Subscriptions != 0 || st.Lagged != 100 {
		t.Fatalf("got %+v, want all 100 cut off", st)
	}
}

func TestHubPublishErrors(t *testing.T) {
	h := NewHub(Config{})
	var rerr *Error
	if err := h.Publish("mempool", finalizedAt(1)); !errors.As(err, &rerr) || rerr.Code != CodeUnknownTopic {
		t.Fatalf("unknown topic: got %v, want code %d", err, CodeUnknownTopic)
	}
	if err := h.Publish(TopicBlocks, finalizedAt(1)); !errors.Is(err, ErrEventTopic) {
		t.Fatalf("wrong event type: got %v, want ErrEventTopic", err)
	}
	if err := h.Publish(TopicBlocks, nil); err == nil {
		t.Fatal("nil event: got nil error")
	}
}

// TestHubRemoveBeforeAdd: a subscription removed before it registers (an
// unsubscribe during its catch-up replay) never registers.
func TestHubRemoveBeforeAdd(t *testing.T) {
	h := NewHub(Config{})
	s := h.newSub(TopicFinalized, Filter{})
	h.remove(s)
	h.add(s)
	if n := h.Subscribers(TopicFinalized); n != 0 {
		t.Fatalf("got %d subscribers, want 0", n)
	}
}

// BenchmarkHubPublish publishes one finalized event to N subscriptions,
// each drained by its own goroutine (as websocket subscriptions are), and
// waits until every subscription has encoded it: the fan-out cost per
// event. It reports the hub's memory per idle subscription.
func BenchmarkHubPublish(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h := NewHub(Config{})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			subs := make([]*hubSub, n)
			for i := range subs {
				subs[i] = h.newSub(TopicFinalized, Filter{})
				h.add(subs[i])
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			hubBytesPerSub := float64(after.HeapInuse-before.HeapInuse) / float64(n)

			stop := make(chan struct{})
			var consumers, delivered sync.WaitGroup
			for _, s := range subs {
				consumers.Add(1)
				go func() {
					defer consumers.Done()
					var buf []*published
					for {
						select {
						case <-stop:
							return
						case <-s.wake:
						}
						buf, _, _ = s.take(buf)
						for _, p := range buf {
							if _, err := p.json(); err != nil {
								b.Error(err)
							}
							delivered.Done()
						}
					}
				}()
			}
			b.ReportAllocs()
			height := uint64(0)
			for b.Loop() {
				height++
				delivered.Add(n)
				if err := h.Publish(TopicFinalized, finalizedAt(height)); err != nil {
					b.Fatal(err)
				}
				delivered.Wait()
			}
			// After the loop: b.Loop's first call resets reported metrics.
			b.ReportMetric(hubBytesPerSub, "hub-B/sub")
			close(stop)
			consumers.Wait()
			if st := h.Stats(); st.Lagged != 0 {
				b.Fatalf("%d subscriptions lagged", st.Lagged)
			}
		})
	}
}
