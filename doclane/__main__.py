from doclane.cli import app

app()
