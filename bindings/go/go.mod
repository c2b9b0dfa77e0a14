module github.com/providermux/providermux-go

go 1.19
