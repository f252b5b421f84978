// Package hugeheap asks Linux to back the Go heap with transparent huge
// pages (2 MiB) where the kernel leaves that to each program (the madvise
// setting of /sys/kernel/mm/transparent_hugepage/enabled, the default of
// Debian and Ubuntu). Go does not advise its heap, so there every 4 KiB page
// of it costs a page fault when first touched; on virtual machines such a
// fault can take 10–20 µs, and a command that builds a 400 MB heap spends
// seconds in them. Prepare is for a process that knows how large its heap
// will grow in a burst (a command's whole run, a server's first build); a
// long-running process should Release the region after the burst, because
// a huge page is resident as a whole once any of it is touched.
package hugeheap
