from microfluence.cli.main import run

run()
