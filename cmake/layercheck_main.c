/* The program of every layercheck_<layer> executable (cmake/SluiceLayer.cmake):
 * it exists only to be linked, and is never run. */
int main(void)
{
    return 0;
}
