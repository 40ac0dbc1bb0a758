package main

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// memPeak is the most memory the process held during a phase.
type memPeak struct {
	heapInuse uint64 // runtime.MemStats.HeapInuse, sampled
	rss       uint64 // VmRSS, sampled
	hwm       uint64 // VmHWM after a reset at the start of the phase; 0 when the reset failed
}

// watchMemory starts sampling HeapInuse and VmRSS every interval and returns
// a function that stops and reports the peaks. It first collects garbage and
// returns freed memory to the system, and resets the kernel's peak-RSS mark
// (VmHWM) by writing 5 to /proc/self/clear_refs, so that earlier phases do
// not count.
func watchMemory(interval time.Duration) (stop func() memPeak) {
	runtime.GC()
	debug.FreeOSMemory()
	hwmReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var peak memPeak
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak.heapInuse = max(peak.heapInuse, ms.HeapInuse)
			if rss, _ := procStatus("VmRSS"); rss > peak.rss {
				peak.rss = rss
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() memPeak {
		close(done)
		<-finished
		if hwmReset {
			peak.hwm, _ = procStatus("VmHWM")
		}
		return peak
	}
}

// procStatus returns a "kB" field of /proc/self/status in bytes, or false
// when it cannot be read (not Linux).
func procStatus(field string) (uint64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return kb << 10, err == nil
	}
	return 0, false
}
