dist_man_MANS += man/tapswitchd.8 man/tapswitch.conf.5 man/tapswitchctl.8

# mdoc lint: every page must be clean.
check-local: check-man
check-man:
	@if command -v mandoc >/dev/null; then \
		(cd $(srcdir) && mandoc -Tlint -Wwarning $(dist_man_MANS)) && \
		echo "PASS: mandoc -Tlint $(dist_man_MANS)"; \
	else echo "mandoc not installed: man pages not checked"; fi
.PHONY: check-man

# bash completion for tapswitchctl
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = completion/tapswitchctl
