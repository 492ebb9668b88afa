module github.com/polyipc/polyipc/bindings/go

go 1.23
