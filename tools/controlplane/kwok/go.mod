module stackgen.dev/tools/controlplane/kwok

go 1.26.8

require sigs.k8s.io/kwok v0.8.0

tool sigs.k8s.io/kwok/cmd/kwok
