// Command hello is the smallest custom handler: a net/http server answering on
// 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT. bench/run.sh measures its cold start next to the
// handler's, as the machine's floor for "exec until GET / answers".
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	addr := "127.0.0.1:" + os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	err := http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	fmt.Fprintln(os.Stderr, "hello:", err)
	os.Exit(1)
}
