// Package bundle builds the browser SDK from sdk/src with esbuild: the
// files a website loads and the ES module a bundler imports.
package bundle

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// builds are the built files, relative to the sdk directory, and how each
// is built.
var builds = []struct {
	out    string
	format api.Format
	minify bool
}{
	{"dist/rechat.min.js", api.FormatIIFE, true},
	{"dist/rechat.js", api.FormatIIFE, false},
	{"dist/rechat.esm.js", api.FormatESModule, false},
}

// Build bundles sdkDir/src/index.js and returns the content of every built
// file, keyed by its name relative to sdkDir.
func Build(sdkDir string) (map[string][]byte, error) {
	dir, err := filepath.Abs(sdkDir)
	if err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(builds))
	for _, b := range builds {
		res := api.Build(api.BuildOptions{
			AbsWorkingDir:     dir,
			EntryPoints:       []string{"src/index.js"},
			Outfile:           b.out,
			Bundle:            true,
			Format:            b.format,
			GlobalName:        "Rechat",
			Target:            api.ES2020,
			Charset:           api.CharsetUTF8,
			LegalComments:     api.LegalCommentsNone,
			MinifyWhitespace:  b.minify,
			MinifyIdentifiers: b.minify,
			MinifySyntax:      b.minify,
			Write:             false,
			LogLevel:          api.LogLevelSilent,
		})
		if len(res.Errors) > 0 {
			msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
			return nil, fmt.Errorf("building %s:\n%s", b.out, strings.Join(msgs, ""))
		}
		if len(res.OutputFiles) != 1 {
			return nil, fmt.Errorf("building %s: esbuild wrote %d files, want 1", b.out, len(res.OutputFiles))
		}
		files[b.out] = res.OutputFiles[0].Contents
	}
	return files, nil
}
