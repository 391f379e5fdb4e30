# azd runs this on Windows in place of the project's hooks, which are bash scripts
# (scripts/*.sh). It stops azd before anything is packaged or provisioned and says what to do.
Write-Host ""
Write-Host "This project deploys from Linux, macOS or WSL: its azd hooks are bash scripts." -ForegroundColor Red
Write-Host "On Windows, open a WSL (Ubuntu) shell, install azd, az and Go there, and run 'make deploy'" -ForegroundColor Red
Write-Host "from the repository in WSL. docs/DEPLOY.md, section 'Windows', has the steps." -ForegroundColor Red
exit 1
