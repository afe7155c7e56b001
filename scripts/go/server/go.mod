module gcwb/scripts/go/server

go 1.19
