package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// permissionsFile is the shape of ROSTER_PERMISSIONS_FILE, in YAML or JSON (JSON is YAML):
//
//	permissions:
//	  - key: campaigns.create
//	    area: campaigns
//	    description: Create and launch campaigns
//	    member: true     # the built-in store role member holds it
//	    viewer: false    # the built-in store role viewer holds it
type permissionsFile struct {
	Permissions []struct {
		Key         string `yaml:"key"`
		Area        string `yaml:"area"`
		Description string `yaml:"description"`
		Member      bool   `yaml:"member"`
		Viewer      bool   `yaml:"viewer"`
	} `yaml:"permissions"`
}

// maxPermissionsFileBytes bounds the file read at start.
const maxPermissionsFileBytes = 4 << 20

// readPermissionsFile parses a permissions file. Unknown fields are refused, so that a typo
// (memebr: true) is an error rather than a permission silently left out of a role.
func readPermissionsFile(path string) ([]app.PermissionInput, error) {
	f, err := os.Open(path) // #nosec G304 -- the operator names this file (ROSTER_PERMISSIONS_FILE)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPermissionsFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPermissionsFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxPermissionsFileBytes)
	}
	return parsePermissions(path, data)
}

func parsePermissions(name string, data []byte) ([]app.PermissionInput, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var pf permissionsFile
	if err := dec.Decode(&pf); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file; expected a permissions: list", name)
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	out := make([]app.PermissionInput, len(pf.Permissions))
	for i, p := range pf.Permissions {
		out[i] = app.PermissionInput{Key: roster.Permission(p.Key), Area: p.Area, Description: p.Description, Member: p.Member, Viewer: p.Viewer}
	}
	return out, nil
}
