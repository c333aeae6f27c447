package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

type versionInfo struct {
	Version    string `json:"version"`
	Go         string `json:"go"`
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commitTime,omitempty"`
	Modified   bool   `json:"modified,omitempty"`
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, Go version and source commit",
		Flags: []cli.Flag{outputFlag()},
		Action: func(c *cli.Context) error {
			if _, err := args(c, 0, 0, "no arguments"); err != nil {
				return err
			}
			asJSON, err := outputJSON(c)
			if err != nil {
				return err
			}
			info := buildVersion()
			if asJSON {
				return writeJSON(c.App.Writer, info)
			}
			w := c.App.Writer
			fmt.Fprintf(w, "quorumchain %s\ngo: %s\n", info.Version, info.Go)
			if info.Commit != "" {
				modified := ""
				if info.Modified {
					modified = " (modified)"
				}
				fmt.Fprintf(w, "commit: %s%s %s\n", info.Commit, modified, info.CommitTime)
			}
			return nil
		},
	}
}

// buildVersion reads the commit from the build info, present when the
// binary was built from a VCS checkout without -buildvcs=false.
func buildVersion() versionInfo {
	info := versionInfo{Version: version, Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.CommitTime = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}
