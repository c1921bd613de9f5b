// Command bundlegen rebuilds the browser SDK into sdk/dist. It runs from
// `go generate ./sdk`, in the sdk directory.
package main

import (
	"log"
	"os"

	"github.com/leadwire/leadwire/sdk/internal/bundle"
)

func main() {
	files, err := bundle.Build(".")
	if err != nil {
		log.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
