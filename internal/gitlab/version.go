package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// Version is a GitLab release, major.minor.
type Version struct{ Major, Minor int }

func (v Version) String() string {
	if v == (Version{}) {
		return ""
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// AtLeast reports whether v is major.minor or newer. The zero Version
// (unknown) is older than everything.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// ParseVersion reads "18.5.1-ee", "17.6.0-pre" or "18.5".
func ParseVersion(s string) (Version, error) {
	s = strings.TrimSpace(s)
	s, _, _ = strings.Cut(s, "-")
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("GitLab version %q is not major.minor[.patch]", s)
	}
	maj, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return Version{}, fmt.Errorf("GitLab version %q is not major.minor[.patch]", s)
	}
	return Version{maj, minor}, nil
}

// Features GitLab gained in the versions the client branches on.
var (
	// projects(fullPaths:) (MR 133596).
	versionFullPaths = Version{16, 6}
	// ciJobTokenAuthLogs (and ciJobTokenScopeAllowlist, whose entries
	// tokenscope reads only from 17.9 on).
	versionAuthLog = Version{17, 6}
	// Allowlist entries target the minimal CiJobTokenAccessible* types
	// (MR 178401) and have defaultPermissions (17.8).
	versionAllowlistGraphQL = Version{17, 9}
	// Allowlist entries have autopopulated.
	versionAutopopulated = Version{17, 10}
)

// Version reads the instance's version (REST /version; any authenticated
// user may).
func (c *Client) Version(ctx context.Context) (Version, error) {
	if err := c.acquire(ctx); err != nil {
		return Version{}, err
	}
	defer c.release()
	v, _, err := c.gl.Version.GetVersion(gl.WithContext(ctx))
	if err != nil {
		return Version{}, c.apiError("read the GitLab version", err)
	}
	return ParseVersion(v.Version)
}

// versionEnforceSetting is when the admin setting "Enable and enforce job
// token allowlist for all projects" appeared (https://docs.gitlab.com/administration/settings/continuous_integration/).
var versionEnforceSetting = Version{17, 6}

// InstanceEnforcesAllowlist reads the admin setting; only administrators
// may (GET /application/settings), so for others it is unknown (nil).
func (c *Client) InstanceEnforcesAllowlist(ctx context.Context, v Version) (*bool, error) {
	if !v.AtLeast(versionEnforceSetting.Major, versionEnforceSetting.Minor) {
		return nil, nil
	}
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	s, _, err := c.gl.Settings.GetSettings(gl.WithContext(ctx))
	if err != nil {
		if st := statusOf(err); st == http.StatusForbidden || st == http.StatusUnauthorized || st == http.StatusNotFound {
			return nil, nil
		}
		return nil, c.apiError("read the instance settings", err)
	}
	return &s.EnforceCIInboundJobTokenScopeEnabled, nil
}
