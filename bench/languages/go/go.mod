module github.com/polyipc/polyipc/bench/languages/go

go 1.23

require github.com/polyipc/polyipc/bindings/go v0.0.0

replace github.com/polyipc/polyipc/bindings/go => ../../../bindings/go
