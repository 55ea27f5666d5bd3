// Package apply executes a saved plan (the plan JSON document of docs/design.md §6b) against GitLab: it refuses a plan whose allowlists moved, makes each project's calls in plan order, and journals every call.
package apply
