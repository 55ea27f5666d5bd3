// Package redact masks secrets in text that tokenscope echoes: evidence
// copied from repositories, lines quoted from job logs, error messages.
// It masks GitLab token formats, credentials in URLs, token headers and
// token query parameters, and tokenscope's own job-token marker. Variable
// references ($X, ${X}, %X%) are not secrets and stay visible, so a
// reviewer still sees which variable carried the token.
package redact

import (
	"regexp"
	"strings"

	"github.com/tokenscope/tokenscope/internal/inventory"
)

// Mask replaces every secret.
const Mask = "[MASKED]"

var (
	// GitLab token prefixes (docs: security/tokens "Token prefixes") and
	// other common forge tokens, JWTs (job tokens are JWTs from 19.0).
	tokenRE = regexp.MustCompile(`\b(?:glpat|glptt|glcbt|gldt|glrt|gloas|glsoat|glft|glimt|glagent|glwt|glcbt-[0-9a-f]{1,5}_|ghp|gho|ghs|github_pat)[-_][A-Za-z0-9_\-.]{8,}|\bGR1348941[A-Za-z0-9_\-]{10,}|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
	// scheme://user:password@ — the password part.
	userinfoRE = regexp.MustCompile(`(://[^/\s:@'"]*:)([^@\s/'"]+)(@)`)
	// Header: value for token headers.
	headerRE = regexp.MustCompile(`(?i)\b((?:PRIVATE|JOB|DEPLOY)[-_]TOKEN\s*:\s*|Authorization\s*:\s*(?:Bearer|Basic|token)\s+)([^\s'"]+)`)
	// token query / form parameters.
	paramRE = regexp.MustCompile(`(?i)\b((?:private_token|job_token|access_token|token|_authToken|password)=)([^\s&'";]+)`)
)

// String masks the secrets in s.
func String(s string) string {
	if s == "" {
		return s
	}
	s = strings.ReplaceAll(s, inventory.JobToken, Mask)
	s = tokenRE.ReplaceAllString(s, Mask)
	s = userinfoRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := userinfoRE.FindStringSubmatch(m)
		if isReference(sub[2]) || sub[2] == Mask {
			return m
		}
		return sub[1] + Mask + sub[3]
	})
	s = headerRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := headerRE.FindStringSubmatch(m)
		if isReference(sub[2]) || sub[2] == Mask {
			return m
		}
		return sub[1] + Mask
	})
	s = paramRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := paramRE.FindStringSubmatch(m)
		if isReference(sub[2]) || sub[2] == Mask {
			return m
		}
		return sub[1] + Mask
	})
	return s
}

// isReference reports whether v is a variable reference rather than a
// literal value: $X, ${X}, $(...), %X%, or a JSON/template placeholder.
func isReference(v string) bool {
	v = strings.Trim(v, `"'`)
	return strings.HasPrefix(v, "$") || (strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%") && len(v) > 2) ||
		strings.HasPrefix(v, "{{") || strings.HasPrefix(v, "#{")
}
