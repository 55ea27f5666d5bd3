//go:build !unix

package inventoryreport

import "time"

func cpuTime() time.Duration { return 0 }
