module github.com/providermux/libprovidermux/bindings/go

go 1.19
