module github.com/rivulet-cdc/rivulet

go 1.26.8
