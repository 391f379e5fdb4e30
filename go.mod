module github.com/opensky-eventhubs/handler

go 1.26.8

require (
	github.com/robfig/cron/v3 v3.0.1
	github.com/sethvargo/go-retry v0.5.0
	golang.org/x/oauth2 v0.38.0
)
