#!/bin/sh
# Real-config measurement (docs/design.md, "Real-config measurement"): rebuilds the
# corpus of public GitLab CI configurations from pinned commits of fetched mirrors,
# scans it, and prints the counts the hand labels in labels.tsv are checked against.
#
# usage: docs/realcfg/measure.sh MIRROR OUT
#   MIRROR  folder holding one bare git directory per repository, named
#           <owner>+<name>/repo (as the fetch tool lays them out; a clone's .git works)
#   OUT     folder to build the corpus in (created; must be outside the repository)
# Run from the repository root. Needs git, tar, go and jq.
set -eu

if [ "$#" -ne 2 ]; then
	echo "usage: $0 MIRROR OUT" >&2
	exit 2
fi
mirror=$1
out=$2
repo_root=$(pwd)

# snapshot  project path  GitHub mirror  commit
projects='
gitlab.com gitlab-org/gitlab-runner gitlabhq+gitlab-runner d79f3e7b89abceace75e2425bfe92b84ea059933
gitlab.com gitlab-org/omnibus-gitlab gitlabhq+omnibus-gitlab 440b1f835eb205885d22933ac074cc11c1148609
gitlab.com gitlab-org/gitlab-shell gitlabhq+gitlab-shell e3c50dfd8f25fb7a03e3be6df0cf0781593bd4e2
gitlab.com gitlab-org/cli gitlabhq+cli 45aa37be004536066e3661622996f39a7a1b72a2
gitlab.com fdroid/fdroidserver f-droid+fdroidserver 00932d0a715b43b3ecf8da44826abf2ba65dd8b4
gnome GNOME/glib GNOME+glib c2237ff1cb0077619538109be177cff8b203e691
gnome GNOME/gnome-shell GNOME+gnome-shell 8f78208660d617182d3ea854f10c5ec9d20248e2
gnome GNOME/mutter GNOME+mutter 6b22394ef3d7717a315d2db1178a0cc0f1637a70
gnome GNOME/libadwaita GNOME+libadwaita c68992bd03a1c62ec01e0095ad5440b0caea7f87
gnome GNOME/gnome-builder GNOME+gnome-builder 50a0fbc3803272f12250f54ba4a68617242ffdd5
gnome GNOME/gnome-software GNOME+gnome-software 0512a608afc3b022989dab9797992b9b2c9b8a4d
gnome GNOME/citemplates GNOME+citemplates df8d2ed4e6ee5cf0c4349dc32bd810f6ff98003f
freedesktop wayland/wayland freedesktop+wayland ada25fbd526dec116026cb2567a912b47890ad05
freedesktop xorg/xserver freedesktop+xorg-xserver 376eaadde36f80fcbe6b0391a3385e77b4602854
freedesktop pipewire/pipewire PipeWire+pipewire f03a55d7f57af10eae34bf47dcebfdfbeb66d31f
freedesktop dbus/dbus freedesktop+dbus ef55a3db0d8f17848f8a579092fb05900cc076f5
'

mkdir -p "$out"
case $(cd "$out" && pwd)/ in
"$repo_root"/*)
	echo "$0: OUT must be outside the repository" >&2
	exit 2
	;;
esac
rm -rf "$out"
mkdir -p "$out"

# inventory header of each snapshot: the real host and its registry.
header() {
	case $1 in
	gitlab.com) printf 'version: 1\nserver_url: https://gitlab.com\nregistry: registry.gitlab.com\n' ;;
	gnome) printf 'version: 1\nserver_url: https://gitlab.gnome.org\nregistry: registry.gitlab.gnome.org\n' ;;
	freedesktop) printf 'version: 1\nserver_url: https://gitlab.freedesktop.org\nregistry: registry.freedesktop.org\n' ;;
	esac
}

for snap in gitlab.com gnome freedesktop; do
	mkdir -p "$out/$snap"
	{
		header "$snap"
		echo 'projects:'
	} >"$out/$snap/inventory.yaml"
done

echo "$projects" | while read -r snap path src commit; do
	[ -n "$snap" ] || continue
	gitdir=$mirror/$src/repo
	[ -d "$gitdir/.git" ] && gitdir=$gitdir/.git
	dest=$out/$snap/$path
	mkdir -p "$dest"
	# A fetched mirror lacks blobs of 4 MiB and more (none is CI): check out through a
	# throwaway index from which their paths are removed, so the mirror is never written.
	index=$out/.index
	GIT_INDEX_FILE=$index git --git-dir="$gitdir" read-tree "$commit"
	git --git-dir="$gitdir" ls-tree -r "$commit" >"$out/.tree"
	awk '$2 == "blob" { print $3 }' "$out/.tree" |
		git --git-dir="$gitdir" cat-file --batch-check | awk '$2 == "missing" { print $1 }' >"$out/.absent"
	awk 'NR == FNR { gone[$1] = 1; next }
		$3 in gone { sub(/^[^\t]*\t/, ""); print }' "$out/.absent" "$out/.tree" |
		GIT_INDEX_FILE=$index git --git-dir="$gitdir" update-index --force-remove --stdin
	GIT_INDEX_FILE=$index git --git-dir="$gitdir" checkout-index -a --prefix="$dest/"
	rm -f "$index" "$out/.tree" "$out/.absent"
	printf '  - path: %s\n    visibility: public\n' "$path" >>"$out/$snap/inventory.yaml"
done

total_refs=0
: >"$out/current.tsv"
for snap in gitlab.com gnome freedesktop; do
	(cd "$repo_root" && go run ./cmd/tokenscope scan "$out/$snap" --format json -q -o "$out/$snap.json") || [ $? -eq 3 ]
	edges=$(jq '.edges | length' "$out/$snap.json")
	jq -r '[.unresolved[] | [.project, .reference] | @tsv] | unique | .[]' "$out/$snap.json" >"$out/$snap.refs.tsv"
	refs=$(wc -l <"$out/$snap.refs.tsv")
	echo "$snap: edges $edges, distinct unresolved references $refs"
	cut -f1 "$out/$snap.refs.tsv" | sort | uniq -c | sed 's/^/  /'
	cat "$out/$snap.refs.tsv" >>"$out/current.tsv"
	total_refs=$((total_refs + refs))
done
echo "total distinct unresolved references: $total_refs"
labels=$repo_root/docs/realcfg/labels.tsv
# labels.tsv holds the hand labels of the references reported before the
# fixes; a reference labelled wrong that is still reported is noise left,
# one not in the file is new and needs a label.
awk -F'\t' -v labels="$labels" '
	BEGIN { while ((getline line < labels) > 0) { split(line, f, "\t"); lab[f[1] "\t" f[2]] = f[4]; if (f[4] == "wrong") w++; n++ } n--; }
	{ k = $1 "\t" $2; if (!(k in lab)) { new++; print "  unlabelled: " k } else if (lab[k] == "wrong") left++ }
	END { printf "labelled before the fixes: %d, wrong: %d; still reported and wrong: %d; unlabelled: %d\n", n, w, left, new }
' "$out/current.tsv"
