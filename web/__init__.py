"""Route adapters: parse a request, call one domain function, render. None imports another."""
