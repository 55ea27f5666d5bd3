package redact

import (
	"fmt"
	"strings"
	"testing"
)

// plantForms are the ways a secret sits in what tokenscope echoes (CI
// files, job logs, error messages) that String must mask, each with %s
// where the secret goes.
var plantForms = []string{
	"glpat-%s",
	"glptt-%s",
	"glcbt-%s",
	"gldt-%s",
	"https://user:%s@gitlab.example.com/g/p.git",
	"https://gitlab-ci-token:%s@gitlab.example.com/g/p.git",
	"curl -H \"PRIVATE-TOKEN: %s\" https://h/api/v4/projects/1",
	"JOB-TOKEN: %s",
	"Authorization: Bearer %s",
	"https://h/x?private_token=%s&job=build",
	"wget \"https://h/x?job_token=%s&job=build\"",
	"curl -F token=%s -F ref=main u",
	"password=%s&user=x",
}

// secretOf turns fuzz bytes into a distinctive secret: letters and digits
// only (what every form above takes as one token), 16 to 64 long.
func secretOf(raw string) string {
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	b.WriteString("Zq9")
	for i := 0; i < len(raw) && b.Len() < 64; i++ {
		b.WriteByte(alnum[int(raw[i])%len(alnum)])
	}
	for b.Len() < 16 {
		b.WriteString("x7")
	}
	return b.String()
}

// FuzzPlantedSecret plants a secret in one of the forms, between any text
// on the lines before and after, and checks that it never survives
// String.
func FuzzPlantedSecret(f *testing.F) {
	for i := range plantForms {
		f.Add("echo start", "s3cretValue0123", "echo end", uint8(i))
	}
	f.Add("PRIVATE-TOKEN: ", "abc", "\"", uint8(6))
	f.Add("https://a:b@", "x", "@", uint8(4))
	f.Fuzz(func(t *testing.T, before, raw, after string, form uint8) {
		secret := secretOf(raw)
		if strings.Contains(before+after, secret[:12]) {
			t.Skip("the surrounding text holds the secret itself")
		}
		planted := fmt.Sprintf(plantForms[int(form)%len(plantForms)], secret)
		out := String(before + "\n" + planted + "\n" + after)
		if strings.Contains(out, secret) {
			t.Fatalf("the secret survived in form %q:\n%q", plantForms[int(form)%len(plantForms)], out)
		}
	})
}
