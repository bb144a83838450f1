from data_loaders.cli import main

main()
