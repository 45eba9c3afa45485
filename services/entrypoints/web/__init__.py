"""The web pages for people (Chinese, server-rendered): sign-in, member, branch, supervisor, office, ballot."""
