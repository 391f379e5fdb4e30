// Package prefault, imported for its side effect by the handler's main package, maps the
// executable's pages (code, constants and initial data) in one call as the process starts, on
// Linux 5.14 or later (MADV_POPULATE_READ); elsewhere it does nothing.
//
// Without it the kernel maps the binary a page fault at a time as start-up first touches each
// part of it: several hundred faults for the handler, about as many as the package inits touch.
// Where faults are dear (virtual machines, the Functions sandbox) they are most of the time
// between exec and the first answer to the host's GET /; one madvise call maps the same pages
// for less. The pages are the page cache's, shared and reclaimable: resident memory shows the
// whole binary (about 10 MB) instead of the part start-up touched. See BENCHMARKS.md, cold start.
//
// It imports only syscall, so that its init runs early among the inits of the standard library.
package prefault
