package config

import (
	"os"

	"github.com/joho/godotenv"
)

// Environ returns a getenv that reads the process environment and falls back
// to the .env file at path (missing is fine): the real environment always
// wins, and nothing is written back to it.
func Environ(path string) func(string) string {
	file, err := godotenv.Read(path)
	if err != nil {
		file = nil
	}
	return func(key string) string {
		if v, ok := os.LookupEnv(key); ok {
			return v
		}
		return file[key]
	}
}
